"""A node-crash drill on a real pg_auto_failover formation (monitor + two keepers) with tuned timers."""

from __future__ import annotations

import psutil
import pytest

from failover.autofailover_lab import create_autofailover_lab
from failover.drill import DrillConfig, run_drill
from failover.engines.pg_auto_failover import AutoFailoverEngine
from failover.types import Fault

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_node_crash_loses_nothing_and_the_old_primary_comes_back_as_secondary() -> None:
    lab = create_autofailover_lab(tuned=True)
    groups = [k.proc.pid for k in [lab.monitor, *lab.nodes] if k.proc is not None]
    engine = AutoFailoverEngine(lab)
    try:
        config = DrillConfig(fault=Fault.CRASH, clients=2, warmup=0.3, settle=0.2, recover_timeout=60,
                             rejoin_timeout=60, rto_target=30)
        result = run_drill(engine, config)
        assert result.ok, result.failures
        assert result.rpo == 0 and result.attempts["acked"] > 20
        assert result.missing_marks == []
        assert "unhealthy" in next(e.reason for e in result.events if e.mark == "detection")
    finally:
        engine.close()
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in groups)
