"""The manual engine's runbook steps over a fake lab: member roles, detection and decision, injection, fencing checks.

`failover.pgsql` is replaced per test by a table of what each port answers, so no PostgreSQL runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest

from failover import pgsql
from failover.engines.base import Member, RejoinResult
from failover.engines.manual import ManualEngine, ManualPolicy, _rewind_summary, _with_replica
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, Mark, Role

FAST = ManualPolicy(probe_interval=0.0, probe_timeout=0.01, failure_threshold=3)


@dataclass
class FakeNode:
    name: str
    port: int
    pid: int = 100
    proc: Any = None
    alive: bool = True
    done: list[str] = field(default_factory=list)

    @property
    def dsn(self) -> str:
        return f"port={self.port}"

    def running(self) -> bool:
        return self.alive

    def kill(self) -> None:
        self.done.append("kill")

    def hang(self) -> None:
        self.done.append("hang")

    def pids(self) -> list[int]:
        return [self.pid, self.pid + 1]


@dataclass
class FakeLab:
    nodes: list[FakeNode]

    def node(self, name: str) -> FakeNode:
        return next(n for n in self.nodes if n.name == name)


@dataclass
class Db:
    """What each port answers: probe errors, recovery state, timelines, replication rows."""

    probe: dict[int, list[str | None]] = field(default_factory=dict)  # consumed in order, last one repeats
    recovery: dict[int, bool | Exception] = field(default_factory=dict)
    timeline: dict[int, int] = field(default_factory=dict)
    rows: list[pgsql.ReplicaState] = field(default_factory=list)
    probes: int = 0

    def tcp_probe(self, port: int, timeout: float = 0.5) -> str | None:
        self.probes += 1
        answers = self.probe.get(port, [None])
        return answers.pop(0) if len(answers) > 1 else answers[0]

    def in_recovery(self, node: FakeNode) -> bool:
        value = self.recovery[node.port]
        if isinstance(value, Exception):
            raise value
        return value


@pytest.fixture
def db(monkeypatch: pytest.MonkeyPatch) -> Db:
    fake = Db()
    monkeypatch.setattr(pgsql, "tcp_probe", fake.tcp_probe)
    monkeypatch.setattr(pgsql, "in_recovery", fake.in_recovery)
    monkeypatch.setattr(pgsql, "current_timeline", lambda node: fake.timeline.get(node.port, 1))
    monkeypatch.setattr(pgsql, "replicas", lambda node: fake.rows)
    return fake


def _pair() -> tuple[FakeNode, FakeNode, ManualEngine]:
    a, b = FakeNode("a", 5001), FakeNode("b", 5002, pid=200)
    return a, b, ManualEngine(FakeLab([a, b]), FAST)  # type: ignore[arg-type]


def test_rewind_summary_prefers_the_verdict_line_over_the_last_line() -> None:
    output = "pg_rewind: connected\npg_rewind: servers diverged at WAL 0/3000 on timeline 1\npg_rewind: Done!"
    assert _rewind_summary(output) == "pg_rewind: servers diverged at WAL 0/3000 on timeline 1"
    assert _rewind_summary("x\n  pg_rewind: no rewind required  \nDone!") == "pg_rewind: no rewind required"


def test_rewind_summary_falls_back_to_the_last_line_or_says_there_was_none() -> None:
    assert _rewind_summary("first\nfatal: could not connect  ") == "fatal: could not connect"
    assert _rewind_summary("") == "no output"


def test_replication_state_is_attached_to_the_standby_of_that_name_only() -> None:
    rows = [pgsql.ReplicaState("b", "streaming", "sync", 42)]
    standby = Member("b", 5002, Role.STANDBY, 200, 2)
    merged = _with_replica(standby, rows)
    assert (merged.sync_state, merged.lag_bytes, merged.reason) == ("sync", 42, "streaming, sync")
    assert merged.timeline == 2 and merged.pid == 200
    other = Member("c", 5003, Role.STANDBY)
    assert _with_replica(other, rows) is other  # not streaming: left as observed
    primary = Member("b", 5002, Role.PRIMARY)
    assert _with_replica(primary, rows) is primary  # a row naming a primary is stale: ignored


def test_members_report_roles_and_remember_which_standby_was_synchronous(db: Db) -> None:
    _a, _b, engine = _pair()
    db.recovery = {5001: False, 5002: True}
    db.timeline = {5001: 3, 5002: 3}
    db.rows = [pgsql.ReplicaState("b", "streaming", "sync", 0)]
    members = engine.members()
    assert [(m.name, m.role, m.timeline) for m in members] == [("a", Role.PRIMARY, 3), ("b", Role.STANDBY, 3)]
    assert members[1].sync_state == "sync"
    assert engine._sync_seen == {"b": True}


def test_a_member_that_is_down_is_reported_with_its_reason_never_raised(db: Db) -> None:
    a, _b, engine = _pair()
    a.proc, a.alive = object(), False  # started by the lab, process gone
    db.probe = {5002: ["connection refused"]}
    members = engine.members()
    assert [(m.role, m.reason) for m in members] == [(Role.DOWN, "not running"), (Role.DOWN, "connection refused")]
    assert members[0].pid is None and members[1].pid == 200
    assert engine._sync_seen == {}  # no primary: nothing observed about synchronous standbys


def test_a_member_whose_query_fails_is_down_with_the_error_cut_short(db: Db) -> None:
    _a, _b, engine = _pair()
    db.recovery = {5001: False, 5002: psycopg.OperationalError("x" * 300 + "\n")}
    member = engine.members()[1]
    assert member.role is Role.DOWN and member.reason == "x" * 120


def test_detection_waits_for_the_threshold_then_promotes_a_synchronous_standby(db: Db) -> None:
    a, b, engine = _pair()
    engine._sync_seen = {"b": True}
    db.probe = {5001: [None, "connection refused", None, "refused 1", "refused 2", "refused 3"]}
    db.recovery = {5002: True}
    timeline = Timeline()
    engine._detect_and_decide(a, b, timeline, deadline=float("inf"))  # type: ignore[arg-type]
    detections = [e for e in timeline.events if e.mark == Mark.DETECTION]
    # an answer in between resets the count: detection is marked at the first failure of each run
    assert [e.reason for e in detections] == ["probe of a failed: connection refused", "probe of a failed: refused 1"]
    decision = timeline.events[-1]
    assert decision.mark == Mark.DECISION and "failed 3 probes in a row (refused 3)" in decision.reason
    assert db.probes == 6


def test_detection_refuses_a_standby_that_was_not_synchronous(db: Db) -> None:
    a, b, engine = _pair()
    db.probe = {5001: ["connection refused"]}
    db.recovery = {5002: True}
    with pytest.raises(FailoverFailed, match="b was not the synchronous standby"):
        engine._detect_and_decide(a, b, Timeline(), deadline=float("inf"))  # type: ignore[arg-type]


def test_a_standby_that_cannot_be_asked_counts_as_not_in_recovery(db: Db) -> None:
    a, b, engine = _pair()
    engine._sync_seen = {"b": True}
    db.probe = {5001: ["connection refused"]}
    db.recovery = {5002: psycopg.OperationalError("gone")}
    with pytest.raises(FailoverFailed, match="b is not a standby in recovery"):
        engine._detect_and_decide(a, b, Timeline(), deadline=float("inf"))  # type: ignore[arg-type]


def test_a_primary_that_keeps_answering_fails_at_the_deadline(db: Db) -> None:
    a, b, engine = _pair()
    with pytest.raises(FailoverFailed, match="a still answered or no decision before the deadline"):
        engine._detect_and_decide(a, b, Timeline(), deadline=0.0)  # type: ignore[arg-type]


def test_inject_kills_the_node_that_accepts_writes(db: Db) -> None:
    a, b, engine = _pair()
    db.recovery = {5001: True, 5002: False}  # b is the primary now
    timeline = Timeline()
    assert engine.inject(Fault.CRASH, timeline) == "b"
    assert b.done == ["kill"] and a.done == []
    assert timeline.events[-1].mark == Mark.FAULT
    assert timeline.events[-1].reason == "kill -9 of postmaster pid 200 on b"


def test_inject_hang_stops_every_process_of_the_primary(db: Db) -> None:
    a, _b, engine = _pair()
    db.recovery = {5001: False, 5002: True}
    timeline = Timeline()
    engine.inject(Fault.HANG, timeline)
    assert a.done == ["hang"] and timeline.events[-1].reason == "SIGSTOP of 2 processes of a"


def test_inject_needs_a_member_that_accepts_writes(db: Db) -> None:
    _a, _b, engine = _pair()
    db.recovery = {5001: True, 5002: True}
    with pytest.raises(FailoverFailed, match="no member of the lab accepts writes"):
        engine.inject(Fault.KILL, Timeline())


def test_split_brain_only_when_the_fenced_old_primary_still_takes_a_write(
        db: Db, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _pair()[2]
    writes: list[int] = []
    monkeypatch.setattr(pgsql, "try_write", lambda node: writes.append(node.port))  # None: the write went in
    db.probe = {5001: [None]}
    assert engine.split_brain("a") == "a accepted a write after fencing"
    monkeypatch.setattr(pgsql, "try_write", lambda node: "cannot execute INSERT in a read-only transaction")
    assert engine.split_brain("a") is None
    monkeypatch.setattr(pgsql, "try_write", lambda node: writes.append(node.port))
    db.probe = {5001: ["connection refused"]}
    assert engine.split_brain("a") is None  # a refused port is fenced: it is not asked to write at all
    assert writes == [5001]


def test_rejoin_after_strict_mode_returns_its_result_once() -> None:
    engine = ManualEngine(FakeLab([]))  # type: ignore[arg-type]
    done = RejoinResult(True, "rejoined during the failover")
    engine._strict_result = done
    assert engine.rejoin("a", Timeline(), 1.0) is done
    assert engine._strict_result is None
