"""A worker's CPU share counts from the start of the run, as its wall clock does, not from its imports.

A remote worker used 92% of a core over a 5 s run on CI because its report divided all the CPU its process
had used (Locust's imports included) by the seconds since the run started. Locust's import patches the
interpreter with gevent, so the worker's side runs in its own interpreter here.
"""

from __future__ import annotations

import json
import subprocess
import sys

SCRIPT = """
import json, time
from loadtest.locust_shape import _Worker
worker = _Worker(None)
before = worker.own()
end = time.process_time() + 0.5
while time.process_time() < end:  # CPU spent before the run, as imports and connecting are
    pass
worker.begin()
time.sleep(0.3)  # the run itself, idle
print(json.dumps({"before": before, "run": worker.own(), "process": time.process_time()}))
"""


def test_a_workers_cpu_and_wall_seconds_both_start_with_the_run() -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120, check=True)
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["before"]["cpu_s"] == 0.0 and out["before"]["wall_s"] == 0.0
    assert out["process"] > 0.5  # the process did burn the CPU before the run
    assert out["run"]["cpu_s"] < 0.2  # none of it is the run's
    assert 0.3 <= out["run"]["wall_s"] < 5.0
