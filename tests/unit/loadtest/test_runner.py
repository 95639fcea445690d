"""The Locust command lines of a run: one process, or a master that waits for local and remote workers."""

from __future__ import annotations

from pathlib import Path

from loadtest.fixture import Fixture
from loadtest.runner import LocustPlan, commands
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
