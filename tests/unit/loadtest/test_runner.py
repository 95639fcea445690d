"""The Locust command lines of a run: one process, or a master that waits for local and remote workers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.fixture import Fixture
from loadtest.metrics import Stats
from loadtest.runner import SHAPE_FILE, LocustPlan, Progress, _Watch, commands
from loadtest.shapes import ShapeKind, ShapeSpec

FIXTURE = Fixture({}, [], [], [], {}, {}, {}, "2024-01-01", "2024-01-31")


def _plan(**kw: object) -> LocustPlan:
    return LocustPlan("http://127.0.0.1:1", Path("out"), "browse", ShapeSpec(ShapeKind.RAMP, 2, 5.0), FIXTURE,
                      **kw)  # type: ignore[arg-type]


def _after(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]


def test_without_workers_one_local_process() -> None:
    assert [role for role, _ in commands(_plan(), 5557)] == ["local"]


def test_remote_workers_alone_make_a_master_that_waits_for_them_on_its_bind_address() -> None:
    procs = commands(_plan(remote_workers=2, master_bind_host="0.0.0.0", remote_wait_s=7.0), 6000)
    assert [role for role, _ in procs] == ["master"]
    master = procs[0][1]
    assert _after(master, "--expect-workers") == "2" and _after(master, "--expect-workers-max-wait") == "7"
    assert _after(master, "--master-bind-host") == "0.0.0.0" and _after(master, "--master-bind-port") == "6000"


def test_local_and_remote_workers_add_up_and_locals_reach_the_master_on_loopback() -> None:
    procs = dict(commands(_plan(workers=1, remote_workers=1, master_bind_host="0.0.0.0", remote_wait_s=5.0), 6001))
    assert list(procs) == ["master", "worker-1"]
    assert _after(procs["master"], "--expect-workers") == "2"
    assert _after(procs["master"], "--expect-workers-max-wait") == "30"  # local workers get their usual time
    assert _after(procs["worker-1"], "--master-host") == "127.0.0.1"
    assert _after(procs["worker-1"], "--master-port") == "6001"


def test_every_path_locust_gets_is_absolute_though_the_plan_is_relative(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # Locust runs inside the output folder: `var/loadtest/T/locust` from there is `var/loadtest/T/var/loadtest/T`
    monkeypatch.chdir(tmp_path)
    mine = Path("mine.py")
    argv = commands(_plan(locustfile=mine, workers=1), 5557)[0][1]
    for flag in ("--csv", "--html", "--json-file"):
        assert _after(argv, flag).startswith(str(tmp_path / "out") + "/"), flag
    assert _after(argv, "-f").split(",") == [str(SHAPE_FILE), str(tmp_path / "mine.py")]


def _live(path: Path, users: int, requests: int, failures: int, times: dict[str, int]) -> None:
    entry = {"method": "GET", "name": "/items", "num_requests": requests, "num_failures": failures,
             "total_response_time": 1.0, "max_response_time": 900, "start_time": 1000.0,
             "last_request_timestamp": 1010.0, "response_times": times}
    check = {**entry, "method": "CHECK", "num_requests": 5, "response_times": {}}
    path.write_text(json.dumps({"users": users, "entries": [entry, check]}))


def test_progress_every_few_seconds_from_the_live_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    live = tmp_path / "live.json"
    seen: list[Progress] = []
    clock = [100.0]
    monkeypatch.setattr("loadtest.runner.time.monotonic", lambda: clock[0])
    watch = _Watch(live, None, 5.0, seen.append, 5.0)
    clock[0] = 106.0
    assert watch.look(clock[0]) is None and seen == []  # no live file yet: nothing to say
    _live(live, 4, 50, 1, {"100": 45, "900": 5})
    watch.look(clock[0])
    clock[0] = 108.0
    watch.look(clock[0])  # under 5 s since the last line: quiet
    _live(live, 7, 130, 2, {"100": 125, "900": 5})
    clock[0] = 111.5
    watch.look(clock[0])
    assert [(p.users, p.requests, p.failures, p.p95_ms) for p in seen] == [(4, 50, 1, 900.0), (7, 130, 2, 100.0)]
    assert seen[0].elapsed_s == 6.0 and seen[1].rps == pytest.approx(80 / 5.5, abs=0.01)  # requests since the last


def test_the_abort_gate_sees_the_live_statistics_once_it_may(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    live = tmp_path / "live.json"
    _live(live, 2, 10, 0, {"100": 10})
    monkeypatch.setattr("loadtest.runner.time.monotonic", lambda: 0.0)
    calls: list[int] = []

    def gate(stats: Stats) -> str | None:
        calls.append(stats.requests())
        return "global: p(95) breached"

    watch = _Watch(live, gate, 5.0, None, 5.0)
    assert watch.look(2.0) is None and calls == []  # before abort_after_s
    assert watch.look(5.0) == "global: p(95) breached" and watch.aborted == "global: p(95) breached"
    assert watch.look(7.0) is None and calls == [10]  # asked once
