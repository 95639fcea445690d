"""`promote` step by step on a fake PostgreSQL layer: which standby, which refusals, in which order."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest

from failover import pgsql, promote
from failover.promote import PromoteTarget, Server, dsn_target, lab_target
from failover.types import FailoverFailed, FailoverUsage, LabError


@dataclass
class FakeServers:
    """Each port's role as the probes see it; every call is recorded in order."""

    roles: dict[int, str]  # port -> primary | standby | down
    receiver: list[tuple[Any, ...]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(pgsql, "tcp_probe", self.tcp_probe)
        monkeypatch.setattr(pgsql, "in_recovery", self.in_recovery)
        monkeypatch.setattr(pgsql, "query", self.query)
        monkeypatch.setattr(pgsql, "set_sync_names", lambda node, value: self.calls.append(f"sync_names={value!r}"))
        monkeypatch.setattr(pgsql, "promote", self.promote)
        monkeypatch.setattr(pgsql, "current_timeline", lambda node: 2)
        monkeypatch.setattr(promote, "_write_probe", lambda server, timeout: self.calls.append("write"))

    def tcp_probe(self, port: int, timeout: float = 0.5) -> str | None:
        return "connection refused" if self.roles.get(port, "down") == "down" else None

    def in_recovery(self, node: Server) -> bool:
        if self.roles.get(node.port, "down") == "down":
            raise psycopg.OperationalError("connection refused\nis the server running?")
        return self.roles[node.port] == "standby"

    def query(self, node: Server, sql: str, params: tuple[Any, ...] = (), timeout: float = 5) -> list[tuple[Any, ...]]:
        if "pg_stat_wal_receiver" in sql:
            return self.receiver
        self.calls.append(sql)
        return []

    def promote(self, node: Server, timeout: float = 30) -> None:
        self.calls.append(f"promote {node.name}")
        self.roles[node.port] = "primary"


def write_lab(tmp_path: Path, **extra: object) -> Path:
    nodes = [{"name": "node1", "port": 5501, "datadir": "/x/node1", "pid": 1},
             {"name": "node2", "port": 5502, "datadir": "/x/node2", "pid": 2}]
    (tmp_path / "lab.json").write_text(json.dumps({"base": str(tmp_path), "nodes": nodes, **extra}))
    return tmp_path


def test_the_lab_standby_is_promoted_in_the_runbook_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    servers = FakeServers({5501: "down", 5502: "standby"})
    servers.install(monkeypatch)
    result = promote.promote(lab_target(write_lab(tmp_path)))
    assert servers.calls == ["sync_names=''", "promote node2", "write", "CHECKPOINT"]
    assert (result.member, result.port, result.timeline) == ("node2", 5502, 2)
    assert result.source == f"lab {tmp_path}"
    assert result.steps[:2] == ["node2 answers and is a standby in recovery",
                                "no primary answers: promoting cannot split the brain"]
    assert result.reason.startswith("node2 is the primary on timeline 2 (")


def test_strict_sync_keeps_the_sync_names_and_skips_the_write_probe(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    servers = FakeServers({5501: "down", 5502: "standby"})
    servers.install(monkeypatch)
    result = promote.promote(lab_target(write_lab(tmp_path)), strict_sync=True)
    assert servers.calls == ["promote node2", "CHECKPOINT"]
    assert any(step.startswith("strict_sync: no write probe") for step in result.steps)


def test_a_live_primary_refuses_the_promotion_unless_forced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    servers = FakeServers({5501: "primary", 5502: "standby"})
    servers.install(monkeypatch)
    target = lab_target(write_lab(tmp_path))
    with pytest.raises(FailoverFailed, match="^node1 still accepts writes: promoting node2 would split the brain"):
        promote.promote(target)
    assert servers.calls == []  # nothing was changed
    forced = promote.promote(target, force=True)
    assert forced.steps[1].startswith("--force: promoting although node1 still accepts writes")


def test_a_standby_that_still_streams_is_refused_by_dsn(monkeypatch: pytest.MonkeyPatch) -> None:
    servers = FakeServers({5432: "standby"}, receiver=[("streaming", "10.0.0.5", 5432)])
    servers.install(monkeypatch)
    target = dsn_target("host=10.0.0.6 port=5432 user=postgres")
    with pytest.raises(FailoverFailed, match=r"^10.0.0.6:5432 still streams from its primary at 10.0.0.5:5432"):
        promote.promote(target)
    servers.receiver = [("waiting", None, None)]
    assert promote.promote(target).member == "10.0.0.6:5432"


def test_nothing_to_promote_names_every_member(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeServers({5501: "down", 5502: "primary"}).install(monkeypatch)
    with pytest.raises(FailoverFailed) as caught:
        lab_target(write_lab(tmp_path))
    assert caught.value.message == ("nothing to promote: no member of the lab is a standby in recovery "
                                    "(node1 down, node2 primary)")


def test_two_standbys_need_a_member_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    FakeServers({5501: "standby", 5502: "standby"}).install(monkeypatch)
    with pytest.raises(FailoverUsage, match=r"^2 standbys \(node1 standby, node2 standby\): name the one"):
        lab_target(write_lab(tmp_path))
    assert lab_target(write_lab(tmp_path), "node1").standby.name == "node1"


def test_a_named_member_that_is_primary_has_nothing_to_promote(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FakeServers({5501: "down", 5502: "primary"}).install(monkeypatch)
    with pytest.raises(FailoverFailed, match="^nothing to promote: node2 already accepts writes"):
        promote.promote(lab_target(write_lab(tmp_path), "node2"))


def test_a_target_that_does_not_answer_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeServers({}).install(monkeypatch)
    with pytest.raises(LabError, match="^db:5432 does not answer: connection refused$") as caught:
        promote.promote(dsn_target("host=db"))
    assert caught.value.exit_code == 4


def test_an_unknown_member_and_a_patroni_lab_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(FailoverUsage, match="no member named 'node9' .*; members: node1, node2"):
        lab_target(write_lab(tmp_path), "node9")
    with pytest.raises(FailoverUsage, match="Patroni promotes its members"):
        lab_target(write_lab(tmp_path, kind="patroni"))


def test_dsn_targets_default_the_port_and_bound_the_connect_time() -> None:
    target = dsn_target("host=db.internal user=postgres")
    assert (target.standby.name, target.standby.port) == ("db.internal:5432", 5432)
    assert "connect_timeout=3" in target.standby.dsn
    assert dsn_target("host=a,b port=6001,6002").standby.port == 6001
    assert dsn_target("postgresql://postgres@db:6543/erp", "standby_dsn").source == "standby_dsn"
    with pytest.raises(FailoverUsage, match="^--standby is not a libpq connection string"):
        dsn_target("host=db port")


def test_a_target_is_plain_data() -> None:
    target = PromoteTarget(Server("a", "host=a", 1))
    assert target.others == () and target.source == ""
