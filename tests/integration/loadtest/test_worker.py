"""`erpops loadtest worker` with no master: a bounded wait, then exit 4 with one line; Locust is stopped."""

from __future__ import annotations

import signal
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


def test_sigterm_stops_a_waiting_worker_and_its_locust_with_exit_143(tmp_path: Path) -> None:
    port = free_port()
    worker = subprocess.Popen([str(ERPOPS), "loadtest", "worker", "--master-host", "127.0.0.1", "--master-port",
                               str(port), "--wait", "120", "--quiet"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        children: list[psutil.Process] = []
        while time.monotonic() < deadline and not children:
            children = [c for c in psutil.Process(worker.pid).children(recursive=True) if _runs_locust(c)]
            time.sleep(0.2)
        assert children, "Locust never started under the worker"
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(10)
    assert worker.returncode == 143, err
    assert err.strip() == "error: terminated; everything this command started was stopped"
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


def _runs_locust(process: psutil.Process) -> bool:
    try:
        return "locust" in " ".join(process.cmdline())
    except psutil.Error:  # exited between listing and asking
        return False
