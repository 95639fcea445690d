"""Loaded beside every locustfile: the run's settings, its load shape, live statistics and worker reports.

The run's settings are Locust custom arguments, `--erpops-shape` (a `loadtest.shapes.ShapeSpec` as JSON)
and `--erpops-fixture` (a `loadtest.fixture.Fixture` as JSON), read by the master (or the only process)
from `ERPOPS_LOADTEST_SHAPE` and `ERPOPS_LOADTEST_FIXTURE`. Locust sends custom arguments from the
master to each worker with its first spawn message, so a remote worker started with nothing but
`erpops loadtest worker --master-host HOST` runs what the master decided.

The shape ends early once the file `ERPOPS_LOADTEST_STOP` names exists (Locust then stops and reports as
at a normal end; a signal would kill a headless shape run before its reports are written). On the master
(or the only process), the user count and the statistics so far (entries in the format of Locust's
`--json-file`) are written every second to `ERPOPS_LOADTEST_LIVE`, so the harness can show progress and stop
a run whose gate is already breached; and what
each worker reports about itself (name, host, pid, requests, CPU) to `ERPOPS_LOADTEST_WORKERS`. A worker
writes its run's shape and its own counts to `ERPOPS_LOADTEST_WORKER_STATUS` for `erpops loadtest worker`.
"""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
import psutil
from locust import LoadTestShape, events
from locust.argument_parser import LocustArgumentParser
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from loadtest.fixture import ENV as FIXTURE_ENV
from loadtest.fixture import LIVE_ENV, SHAPE_ENV, STOP_ENV, WORKER_NAME_ENV, WORKER_STATUS_ENV, WORKERS_ENV
from loadtest.metrics import CHECK, TASK
from loadtest.shapes import Shape, ShapeSpec, Tick, build

REPORT_KEY = "erpops_worker"


@events.init_command_line_parser.add_listener  # type: ignore[untyped-decorator]
def _arguments(parser: LocustArgumentParser, **_: Any) -> None:
    parser.add_argument("--erpops-shape", env_var=SHAPE_ENV, default="", include_in_web_ui=False,
                        help="The run's load shape (JSON); sent by the master to its workers.")
    parser.add_argument("--erpops-fixture", env_var=FIXTURE_ENV, default="", include_in_web_ui=False,
                        help="The run's data and tokens (JSON); sent by the master to its workers.")


def run_setting(environment: Environment | None, name: str, env: str) -> str:
    """A custom argument of the run (as the master sent it, on a worker), or its environment variable."""
    options = environment.parsed_options if environment is not None else None
    value = getattr(options, name, None) if options is not None else None
    return str(value) if value else os.environ.get(env, "")


class ErpShape(LoadTestShape):
    """Delegates each tick to the pure shape in `loadtest.shapes` (built on the master's first tick)."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.shape: Shape | None = None  # a worker instantiates the shape too, but never ticks it
        stop = os.environ.get(STOP_ENV)
        self.stop = Path(stop) if stop else None

    def tick(self) -> Tick:
        if self.stop is not None and self.stop.exists():
            return None
        if self.shape is None:
            raw = run_setting(self.runner.environment if self.runner else None, "erpops_shape", SHAPE_ENV)
            self.shape = build(ShapeSpec.from_json(json.loads(raw)))
        return self.shape.tick(self.get_run_time())  # type: ignore[no-untyped-call]


def _write(path: Path, data: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    tmp.replace(path)


def _write_live(environment: Environment, path: Path) -> None:
    while True:
        gevent.sleep(1.0)
        runner = environment.runner
        if runner is None:
            continue
        _write(path, {"users": runner.user_count, "entries": [
            e.serialize() for e in runner.stats.entries.values() if e.num_requests or e.num_failures]})


class _Master:
    """On the master: every worker that connected, and the last report of each about itself."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.workers: dict[str, dict[str, Any]] = {}
        self.last: dict[str, tuple[float, float]] = {}

    def connected(self, client_id: str, **_: Any) -> None:
        self.workers.setdefault(client_id, {"client_id": client_id, "requests": 0})
        _write(self.path, list(self.workers.values()))

    def report(self, client_id: str, data: dict[str, Any], **_: Any) -> None:
        own = data.get(REPORT_KEY)
        if not isinstance(own, dict):
            return
        entry = self.workers.setdefault(client_id, {"client_id": client_id, "peak": 0.0})
        wall, cpu = float(own.get("wall_s", 0.0)), float(own.get("cpu_s", 0.0))
        then, used = self.last.get(client_id, (0.0, 0.0))
        if wall - then >= 1.0:
            entry["peak"] = max(float(entry.get("peak", 0.0)), (cpu - used) / (wall - then))
            self.last[client_id] = (wall, cpu)
        entry.update(own)
        _write(self.path, list(self.workers.values()))


class _Worker:
    """On a worker: counts its own HTTP requests and reports them (and its CPU) with every stats report."""

    def __init__(self, status: Path | None) -> None:
        self.status = status
        self.name = os.environ.get(WORKER_NAME_ENV) or f"{socket.gethostname()}-{os.getpid()}"
        self.process = psutil.Process()
        self.started: float | None = None
        self.cpu_at_start = 0.0
        self.requests = self.failures = 0
        self.shape = ""

    def _cpu(self) -> float:
        times = self.process.cpu_times()
        return float(times.user + times.system)

    def begin(self) -> None:
        """The run starts here: its wall clock and its CPU both count from now, not from the imports before."""
        if self.started is None:
            self.started, self.cpu_at_start = time.monotonic(), self._cpu()

    def started_test(self, environment: Environment, **_: Any) -> None:
        if self.started is None:
            self.begin()
            self.shape = run_setting(environment, "erpops_shape", SHAPE_ENV)
            self.write()

    def request(self, request_type: str, exception: BaseException | None = None, **_: Any) -> None:
        self.begin()  # a spawn that raced the registration of `started_test`
        if request_type not in (CHECK, TASK):
            self.requests += 1
            self.failures += exception is not None

    def own(self) -> dict[str, Any]:
        """Its counts, and its CPU and wall seconds since the run started (both 0 before it)."""
        cpu = wall = 0.0
        if self.started is not None:
            cpu, wall = self._cpu() - self.cpu_at_start, time.monotonic() - self.started
        return {"name": self.name, "host": socket.gethostname(), "pid": os.getpid(), "requests": self.requests,
                "failures": self.failures, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3)}

    def write(self) -> None:
        if self.status is not None:
            _write(self.status, {**self.own(), "started": self.started is not None,
                                 "shape": json.loads(self.shape) if self.shape else None})

    def report(self, data: dict[str, Any], **_: Any) -> None:
        data[REPORT_KEY] = self.own()
        self.write()


@events.init.add_listener  # type: ignore[untyped-decorator]
def _on_init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    if isinstance(runner, WorkerRunner):
        status = os.environ.get(WORKER_STATUS_ENV)
        worker = _Worker(Path(status) if status else None)
        environment.events.test_start.add_listener(worker.started_test)  # type: ignore[no-untyped-call]
        environment.events.request.add_listener(worker.request)  # type: ignore[no-untyped-call]
        environment.events.report_to_master.add_listener(worker.report)  # type: ignore[no-untyped-call]
        return
    live = os.environ.get(LIVE_ENV)
    if live:
        gevent.spawn(_write_live, environment, Path(live))
    workers = os.environ.get(WORKERS_ENV)
    if workers and isinstance(runner, MasterRunner):
        master = _Master(Path(workers))
        environment.events.worker_connect.add_listener(master.connected)  # type: ignore[no-untyped-call]
        environment.events.worker_report.add_listener(master.report)  # type: ignore[no-untyped-call]
