"""Loaded beside every locustfile: the run's load shape, and live statistics for abort-on-fail gates.

The shape comes from `ERPOPS_LOADTEST_SHAPE` (a `loadtest.shapes.ShapeSpec` as JSON) and ends early
once the file `ERPOPS_LOADTEST_STOP` names exists (Locust then stops and reports as at a normal end;
a signal would kill a headless shape run before its reports are written). On the master
(or the only process), the statistics so far are written every second to `ERPOPS_LOADTEST_LIVE`, in the
format of Locust's `--json-file`, so the harness can stop a run whose gate is already breached.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import gevent  # type: ignore[import-untyped]
from locust import LoadTestShape, events
from locust.env import Environment
from locust.runners import WorkerRunner

from loadtest.fixture import LIVE_ENV, SHAPE_ENV, STOP_ENV
from loadtest.shapes import ShapeSpec, Tick, build


class ErpShape(LoadTestShape):
    """Delegates each tick to the pure shape in `loadtest.shapes`."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.shape = build(ShapeSpec.from_json(json.loads(os.environ[SHAPE_ENV])))
        stop = os.environ.get(STOP_ENV)
        self.stop = Path(stop) if stop else None

    def tick(self) -> Tick:
        if self.stop is not None and self.stop.exists():
            return None
        return self.shape.tick(self.get_run_time())  # type: ignore[no-untyped-call]


def _write_live(environment: Environment, path: Path) -> None:
    while True:
        gevent.sleep(1.0)
        runner = environment.runner
        if runner is None:
            continue
        entries = [e.serialize() for e in runner.stats.entries.values() if e.num_requests or e.num_failures]
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(entries))
        tmp.replace(path)


@events.init.add_listener  # type: ignore[untyped-decorator]
def _on_init(environment: Environment, **_: Any) -> None:
    live = os.environ.get(LIVE_ENV)
    if live and not isinstance(environment.runner, WorkerRunner):
        gevent.spawn(_write_live, environment, Path(live))
