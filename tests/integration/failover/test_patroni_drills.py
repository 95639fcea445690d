"""Drills with a real Patroni + etcd cluster on loopback, driven by the same runner as the manual engine."""

from __future__ import annotations

import httpx
import pytest

from failover.drill import DrillConfig, run_drill
from failover.engines.patroni import PatroniEngine
from failover.patroni_lab import create_patroni_lab
from failover.types import Fault

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_node_crash_and_postgres_kill_lose_nothing_and_the_old_primary_rejoins() -> None:
    lab = create_patroni_lab()
    agents = [m.proc.pid for m in lab.members if m.proc is not None]
    engine = PatroniEngine(lab)
    try:
        config = DrillConfig(fault=Fault.CRASH, clients=2, warmup=0.3, settle=0.2, rejoin_timeout=60)
        crash = run_drill(engine, config)
        assert crash.ok, crash.failures
        assert crash.rpo == 0 and crash.attempts["acked"] > 20
        assert crash.new_primary != crash.old_primary
        assert crash.missing_marks == []
        assert crash.rejoin is not None and crash.rejoin.ok
        assert crash.seconds["business_rto"] < 15
        kill = run_drill(engine, DrillConfig(fault=Fault.KILL, clients=2, warmup=0.3, settle=0.2))
        assert kill.ok, kill.failures
        assert kill.rpo == 0
    finally:
        engine.close()
    import psutil

    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in agents)


def test_isolated_leader_demotes_itself_a_new_leader_takes_over_and_the_cut_is_always_lifted() -> None:
    import os

    from failover import isolation, pgsql

    lab = create_patroni_lab()
    agents = [m.proc.pid for m in lab.members if m.proc is not None]
    engine = PatroniEngine(lab)
    try:
        config = DrillConfig(fault=Fault.ISOLATE, clients=3, warmup=0.5, settle=0.2, rejoin_timeout=60)
        result = run_drill(engine, config)
        assert result.ok, result.failures
        assert result.rpo == 0 and result.attempts["acked"] > 20
        assert result.attempts["acked_by_isolated"] == 0
        assert result.new_primary != result.old_primary
        assert result.missing_marks == []
        reasons = {e.mark: e.reason for e in result.events}
        # The isolated leader stepped down on its own (its Patroni's log says so) before anyone was promoted.
        assert "demot" in reasons["fencing"] or "in recovery" in reasons["fencing"]
        assert result.seconds["fencing"] < result.seconds["promotion"]
        assert result.seconds["isolation_lifted"] < result.seconds["old_primary_rewound"]
        assert result.seconds["business_rto"] < 15
        assert result.seconds["lifted_to_sync"] < 30
        assert result.rejoin is not None and result.rejoin.ok
        view = {m["name"]: m for m in lab.cluster(last=(result.old_primary,))}
        leader = view[result.new_primary]
        assert leader["role"] == "leader"
        assert view[result.old_primary]["role"] in ("replica", "sync_standby")
        assert view[result.old_primary]["timeline"] == leader["timeline"]
        assert not [t for t in isolation.tables() if t.startswith(f"{isolation.PREFIX}{os.getpid()}_")]

        # A drill that fails (no time to elect anyone) still lifts the cut in its finally block.
        failed = run_drill(engine, DrillConfig(fault=Fault.ISOLATE, clients=1, warmup=0.2, settle=0,
                                               recover_timeout=0.5))
        assert not failed.ok
        assert any(f.startswith("failover:") for f in failed.failures)
        assert "isolation_lifted" in [e.mark for e in failed.events]
        assert not [t for t in isolation.tables() if t.startswith(f"{isolation.PREFIX}{os.getpid()}_")]
        cut_off = lab.member(failed.old_primary)
        # Reachable again: its REST API answers, and its PostgreSQL port answers or refuses (not a silent drop).
        assert httpx.get(f"{cut_off.rest}/patroni", timeout=2).status_code in (200, 503)
        assert pgsql.tcp_probe(cut_off.pg_port, 1.0) in (None, "connection refused")
    finally:
        engine.close()
    import psutil

    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in agents)
