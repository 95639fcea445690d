"""A drill's clean-up: the engine closed, strays killed, the directory gone, a second signal held back."""

from __future__ import annotations

import subprocess
import sys

import psutil
import pytest

from failover import isolation
from failover.cleanup import LabGuard
from failover.engines.fake import FakeEngine
from opskit.signals import Terminated


class BrokenEngine(FakeEngine):
    def close(self) -> None:
        raise RuntimeError("agent does not answer")


@pytest.fixture(autouse=True)
def no_nft(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "lift_own", list)


def test_the_guard_closes_its_engine_and_removes_the_lab_directory() -> None:
    lines: list[str] = []
    with LabGuard(progress=lines.append) as guard:
        engine = guard.adopt(FakeEngine())
        (guard.base / "node1").mkdir()
    assert isinstance(engine, FakeEngine) and engine.closed
    assert not guard.base.exists()
    assert guard.swept == [] and lines == []


def test_a_process_naming_the_lab_is_killed_when_the_engine_did_not_know_it() -> None:
    lines: list[str] = []
    with pytest.raises(Terminated), LabGuard(progress=lines.append) as guard:
        guard.adopt(BrokenEngine())
        # as a pg_basebackup whose runuser parent was killed: an orphan (not our descendant) naming the lab
        script = "import time; time.sleep(60)"
        spawned = subprocess.run(["sh", "-c", f'{sys.executable} -c "{script}" {guard.base}/node2 >/dev/null 2>&1 & echo $!'],
                                 capture_output=True, text=True, check=True)
        stray = int(spawned.stdout)
        assert stray not in {c.pid for c in psutil.Process().children(recursive=True)}
        raise Terminated("signal 15")
    assert not psutil.pid_exists(stray) or psutil.Process(stray).status() == psutil.STATUS_ZOMBIE
    assert not guard.base.exists()
    assert guard.swept[0].startswith("engine close failed (RuntimeError: agent does not answer)")
    assert any(s.endswith(f"pid {stray} (left running)") for s in guard.swept)
    assert lines == [f"clean-up: {sentence}" for sentence in guard.swept]


def test_a_child_started_inside_the_block_is_killed_even_without_the_lab_in_its_arguments() -> None:
    with LabGuard() as guard:
        child = subprocess.Popen(["sleep", "60"])
    assert child.poll() is not None or not psutil.pid_exists(child.pid)  # killed and reaped by the sweep
    assert any(f"pid {child.pid}" in s for s in guard.swept)


def test_a_child_older_than_the_block_is_left_alone() -> None:
    older = subprocess.Popen(["sleep", "60"])
    try:
        with LabGuard():
            pass
        assert older.poll() is None
    finally:
        older.kill()
        older.wait(10)


def test_lift_leftovers_does_nothing_where_nft_cannot_be_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(isolation, "unavailable", lambda: "nft is not installed")
    monkeypatch.setattr(isolation, "tables", lambda: pytest.fail("nft must not be run"))
    assert isolation.lift_leftovers() == []


def test_psutil_sees_no_stray_left_by_these_tests() -> None:
    mine = [p for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    assert [p.name() for p in mine if p.name() in {"sleep", "sh"}] == []
