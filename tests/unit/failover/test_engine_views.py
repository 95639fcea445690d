"""What each engine makes of what its HA manager reports, without a server: roles, reasons, refusals."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from failover import patroni_lab
from failover.autofailover_lab import AutoFailoverLab, Keeper
from failover.engines.manual import ManualEngine
from failover.engines.patroni import PatroniEngine
from failover.engines.pg_auto_failover import AutoFailoverEngine
from failover.lab import Lab, PgNode
from failover.patroni_lab import PatroniLab, PatroniMember, init_patroni_lab
from failover.timeline import Event, Timeline
from failover.types import EngineName, FailoverFailed, FailoverUsage, Fault, LabError, Mark, Role
from failover.writer import Attempt, ClientThreads
from opskit.ports import free_port


def patroni(tmp_path: Path, view: list[dict[str, Any]]) -> PatroniEngine:
    members = [PatroniMember(f"pg{i}", 5500 + i, 8000 + i, tmp_path / f"pg{i}", tmp_path / f"pg{i}.yml")
               for i in (1, 2, 3)]
    lab = PatroniLab(tmp_path, "erpops-test", 2379, members)
    lab.cluster = lambda skip=(), last=(): [m for m in view if m["name"] not in skip]  # type: ignore[method-assign]
    return PatroniEngine(lab)


def test_patroni_roles_come_from_its_rest_view_and_a_missing_member_is_down(tmp_path: Path) -> None:
    engine = patroni(tmp_path, [
        {"name": "pg1", "role": "leader", "state": "running", "timeline": 3},
        {"name": "pg2", "role": "sync_standby", "state": "streaming", "timeline": 3, "lag": 0},
    ])
    members = engine.members()
    assert [(m.name, m.role, m.sync_state) for m in members] == [
        ("pg1", Role.PRIMARY, None), ("pg2", Role.STANDBY, "sync"), ("pg3", Role.DOWN, None)]
    assert members[2].reason == "not in Patroni's view"
    assert members[1].reason == "sync_standby, streaming" and members[1].lag_bytes == 0


def test_patroni_without_a_running_leader_cannot_be_failed(tmp_path: Path) -> None:
    engine = patroni(tmp_path, [{"name": "pg1", "role": "leader", "state": "starting"}])
    with pytest.raises(FailoverFailed, match="no running leader to fail"):
        engine.inject(Fault.KILL, Timeline())


def test_an_isolated_leader_stepping_down_is_read_from_its_log_at_the_logged_time(tmp_path: Path) -> None:
    engine = patroni(tmp_path, [])
    logged = dt.datetime.now() - dt.timedelta(seconds=2)
    line = f"{logged:%Y-%m-%d %H:%M:%S},{logged.microsecond // 1000:03d} INFO: demoting self because DCS is not accessible and I was a leader\n"
    (tmp_path / "pg1.log").write_text("2020-01-01 00:00:00,000 INFO: no action\n" + line)
    timeline = Timeline()
    engine._demotion("pg1", timeline)
    assert [e.mark for e in timeline.events] == [Mark.DETECTION, Mark.FENCING]
    assert "demoting self because DCS is not accessible" in timeline.events[1].reason
    assert 1.5 < time.monotonic() - timeline.events[1].at < 3.5


def keepers(tmp_path: Path, states: list[dict[str, Any]]) -> AutoFailoverEngine:
    lab = AutoFailoverLab(tmp_path, Keeper("monitor", 5500, tmp_path / "monitor"),
                          [Keeper("node1", 5501, tmp_path / "node1"), Keeper("node2", 5502, tmp_path / "node2")])
    lab.state = lambda: states  # type: ignore[method-assign]
    return AutoFailoverEngine(lab)


def test_pg_auto_failover_roles_follow_the_monitors_states_and_health(tmp_path: Path) -> None:
    engine = keepers(tmp_path, [
        {"nodename": "node1", "current_group_state": "primary", "assigned_group_state": "primary", "health": 1,
         "reported_tli": 1},
        {"nodename": "node2", "current_group_state": "secondary", "assigned_group_state": "secondary", "health": 0},
    ])
    members = engine.members()
    assert [(m.name, m.role, m.timeline) for m in members] == [("node1", Role.PRIMARY, 1), ("node2", Role.DOWN, None)]
    assert members[1].reason == "secondary -> secondary"


def test_pg_auto_failover_refuses_faults_it_cannot_inject(tmp_path: Path) -> None:
    with pytest.raises(FailoverFailed, match="no primary to fail"):
        keepers(tmp_path, []).inject(Fault.KILL, Timeline())
    engine = keepers(tmp_path, [{"nodename": "node1", "current_group_state": "primary"}])
    with pytest.raises(FailoverFailed, match="cannot inject isolate"):
        engine.inject(Fault.ISOLATE, Timeline())


def test_the_manual_engine_reports_members_that_do_not_answer_as_down_with_why(tmp_path: Path) -> None:
    exited = subprocess.Popen(["true"])
    exited.wait()
    gone = PgNode("node1", free_port(), tmp_path / "node1", proc=exited)
    closed = PgNode("node2", free_port(), tmp_path / "node2")
    members = ManualEngine(Lab(tmp_path, [gone, closed])).members()
    assert [(m.role, m.reason) for m in members] == [(Role.DOWN, "not running"), (Role.DOWN, "connection refused")]
    with pytest.raises(FailoverFailed, match="no member of the lab accepts writes"):
        ManualEngine(Lab(tmp_path, [closed])).inject(Fault.KILL, Timeline())


def test_init_writes_the_patroni_configuration_without_starting_it() -> None:
    data = init_patroni_lab(EngineName.PATRONI, start=False)
    try:
        assert data["started"] is False and "lab" not in data
        assert [Path(c).name for c in data["configs"]] == ["pg1.yml", "pg2.yml", "pg3.yml"]
        assert data["pids"] == {"etcd": None, "pg1": None, "pg2": None, "pg3": None}
    finally:
        shutil.rmtree(data["dir"], ignore_errors=True)
    with pytest.raises(FailoverUsage, match="only --engine patroni has a configuration to write; manual needs none"):
        init_patroni_lab(EngineName.MANUAL, start=False)


def test_a_missing_agent_binary_is_one_error_line(tmp_path: Path) -> None:
    with pytest.raises(LabError, match="/nonexistent/patroni is not installed") as caught:
        patroni_lab._spawn(["/nonexistent/patroni"], tmp_path / "x.log", as_postgres=False)
    assert caught.value.exit_code == 4


def test_client_threads_log_every_attempt_and_stop_together() -> None:
    threads = ClientThreads()

    def loop(client: int) -> None:
        seq = 0
        while not threads.stopping.is_set():
            seq += 1
            threads.record(Attempt(client, seq, time.monotonic(), time.monotonic(), "acked"))  # type: ignore[arg-type]
            threads.stopping.wait(0.01)

    threads.start(loop, 3, "test")
    time.sleep(0.1)
    assert threads.snapshot()
    attempts = threads.stop(5)
    assert {a.client for a in attempts} == {0, 1, 2}
    assert attempts == sorted(attempts, key=lambda a: (a.started, a.client))
    assert not [t for t in threading.enumerate() if t.name.startswith("test-")]


def test_the_timeline_tells_its_listener_of_each_mark_as_it_happens() -> None:
    heard: list[Event] = []
    timeline = Timeline(listener=heard.append)
    timeline.mark(Mark.FAULT, "kill -9")
    timeline.mark(Mark.PROMOTION, "promoted", timeline.at(Mark.FAULT) or 0.0 + 0.5)
    assert [(e.mark, e.reason) for e in heard] == [("fault", "kill -9"), ("promotion", "promoted")]
