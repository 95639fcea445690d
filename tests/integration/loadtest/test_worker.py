"""`erpops loadtest worker` with no master: a bounded wait, then exit 4 with one line; Locust is stopped."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import psutil

from opskit.ports import free_port

ERPOPS = Path(sys.executable).parent / "erpops"


def test_a_worker_whose_master_never_comes_exits_4_after_its_wait(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "locust.log"
    started = time.monotonic()
    done = subprocess.run([str(ERPOPS), "loadtest", "worker", "--master-host", "127.0.0.1", "--master-port",
                           str(port), "--wait", "2", "--log", str(log)],
                          capture_output=True, text=True, check=False, timeout=60, cwd=tmp_path)
    assert done.returncode == 4, done.stderr  # UNAVAILABLE: the master it needs never came
    assert time.monotonic() - started < 30
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: no master at 127.0.0.1:{port} started a run within 2s; stopped the worker")
    assert log.exists()  # Locust ran under it, its output in --log
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if f"--master-port {port}" in " ".join(p.info["cmdline"] or [])]
    assert left == []  # the Locust worker under it was stopped, not orphaned
