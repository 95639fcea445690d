"""`erpcore.migrate.scratch_schema` drops its schema when the process is stopped by SIGTERM, as on a normal exit:
a benchmark stopped by `kill` once left a seeded schema behind, and a test reading the whole catalog tripped on it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.dbhelpers import pg_url

ROOT = Path(__file__).resolve().parents[2]
HOLD = """
import sys, time
from erpcore.migrate import scratch_schema
with scratch_schema(sys.argv[1], "sigterm_probe", migrate=False) as (_engine, name):
    print(name, flush=True)
    time.sleep(60)
"""


def _exists(url: str, name: str) -> bool:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone() is not None


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_a_stopped_process_drops_its_scratch_schema(how: signal.Signals) -> None:
    url = pg_url()
    assert url is not None, "PostgreSQL answers on these machines"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with subprocess.Popen([sys.executable, "-c", HOLD, url], stdout=subprocess.PIPE, text=True, cwd=ROOT,
                          env=env) as proc:
        try:
            assert proc.stdout is not None
            name = proc.stdout.readline().strip()
            assert name.startswith("sigterm_probe_") and _exists(url, name)
            proc.send_signal(how)
            proc.wait(timeout=30)
        finally:
            proc.kill()
    assert proc.returncode != 0 and not _exists(url, name)
