"""Drills with a real Patroni + etcd cluster on loopback, driven by the same runner as the manual engine."""

from __future__ import annotations

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
