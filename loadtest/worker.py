"""`erpops loadtest worker`: one Locust worker for a master that `erpops loadtest run --remote-workers N` started.

The worker runs Locust (a subprocess: the harness never imports Locust) with erpops' own locustfile and
every suite's user class; the master sends it the suite (by class name), the shape and the data setup
with its first spawn, so the operator repeats none of them. It serves one run and exits when the master
ends it; on SIGTERM (`opskit.signals.Terminated` under the root CLI) or Ctrl-C, its `finally` stops Locust by
its PID. Every wait is bounded: for a master to start a run (`wait_s`), then for that run to end (its
run time and a grace), and Locust's own worker gives up after a minute without the master's heartbeat.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erpcore.exceptions import ConfigError
from loadtest.fixture import ALL_SUITES, SUITE_ENV, WORKER_NAME_ENV, WORKER_STATUS_ENV
from loadtest.runner import SHAPE_FILE, STOP_GRACE_S, SUITES_FILE
from opskit.errors import Unavailable

RUN_GRACE_S = 120.0  # after the run time: the master's stop, the last reports, Locust's own shutdown


class WorkerFailed(Unavailable):
    """The worker served no run, or Locust failed under it: a harness failure (exit 4)."""

    code = "worker_failed"


@dataclass(frozen=True)
class WorkerResult:
    """What one worker did: its name, the master it served, its own request counts and how long it ran."""

    name: str
    master: str
    pid: int
    requests: int
    failures: int
    cpu_s: float
    duration_s: float
    shape: dict[str, Any] | None
    exit_code: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "master": self.master, "pid": self.pid, "requests": self.requests,
                "failures": self.failures, "cpu_s": self.cpu_s, "duration_s": self.duration_s, "shape": self.shape,
                "exit_code": self.exit_code}


def worker_command(master_host: str, master_port: int, locustfile: Path | None = None) -> list[str]:
    """The Locust worker's argv."""
    files = f"{SHAPE_FILE},{(locustfile or SUITES_FILE).resolve()}"  # Locust runs in a temporary folder
    return [sys.executable, "-m", "locust", "-f", files, "--worker", "--master-host", master_host,
            "--master-port", str(master_port), "--exit-code-on-error", "0"]


def _status(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _tail(path: Path, chars: int = 600) -> str:
    return path.read_text(errors="replace")[-chars:].strip() if path.exists() else ""


def run_worker(master_host: str, master_port: int, *, name: str | None = None,
               locustfile: Path | None = None, wait_s: float = 300.0, log_path: Path | None = None,
               poll_s: float = 0.25) -> WorkerResult:
    """Serve one run of the master at `master_host`:`master_port`; raise `WorkerFailed` if none comes in time.

    Locust's output goes to `log_path` (default: a temporary file, quoted in the error if it fails).
    """
    if locustfile is not None and not locustfile.exists():
        raise ConfigError(f"--locustfile: no file at {locustfile}")
    name = name or f"{socket.gethostname()}-{os.getpid()}"
    master = f"{master_host}:{master_port}"
    with tempfile.TemporaryDirectory(prefix="erpops-worker-") as tmp:
        status = Path(tmp) / "status.json"
        log_path = log_path or Path(tmp) / "locust.log"
        env = {**os.environ, SUITE_ENV: ALL_SUITES, WORKER_NAME_ENV: name, WORKER_STATUS_ENV: str(status),
               "PYTHONUNBUFFERED": "1"}
        started = time.monotonic()
        deadline = started + wait_s
        run_started = False
        with log_path.open("wb") as out:
            process = subprocess.Popen(worker_command(master_host, master_port, locustfile), stdout=out,
                                       stderr=subprocess.STDOUT, env=env, cwd=tmp)
            try:
                while process.poll() is None:
                    if not run_started and status.exists() and _status(status).get("started"):
                        run_started = True
                        shape = _status(status).get("shape") or {}
                        deadline = time.monotonic() + float(shape.get("run_time_s", wait_s)) + RUN_GRACE_S
                    if time.monotonic() > deadline:
                        what = (f"the run from the master at {master} was still going after its run time and "
                                f"{RUN_GRACE_S:.0f}s" if run_started
                                else f"no master at {master} started a run within {wait_s:g}s")
                        raise WorkerFailed(f"{what}; stopped the worker")
                    time.sleep(poll_s)
            finally:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
                    try:
                        process.wait(STOP_GRACE_S)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait(5)
        final = _status(status)
        if process.returncode != 0:
            raise WorkerFailed(f"the Locust worker for the master at {master} exited with {process.returncode}: "
                               f"{_tail(log_path)}")
        if not final.get("started"):
            raise WorkerFailed(f"the master at {master} ended before it started a run on this worker: "
                               f"{_tail(log_path, 300) or 'no output'}")
        return WorkerResult(name, master, process.pid, int(final.get("requests", 0)), int(final.get("failures", 0)),
                            float(final.get("cpu_s", 0.0)), round(time.monotonic() - started, 3), final.get("shape"),
                            process.returncode)

