"""Drills with the manual engine on a real pair: written as the runbook an SRE would follow."""

from __future__ import annotations

import os

import pytest

from failover import pgsql
from failover.drill import EXPECTED_MARKS, DrillConfig, run_drill
from failover.engines.manual import ManualEngine, ManualPolicy
from failover.lab import Lab
from failover.types import Fault

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


def test_kill_9_loses_no_acknowledged_commit_and_the_old_primary_rejoins(lab: Lab) -> None:
    engine = ManualEngine(lab)
    config = DrillConfig(fault=Fault.KILL, clients=3, warmup=0.5, settle=0.3, erp_check=True)
    result = run_drill(engine, config)
    assert result.ok, result.failures
    assert result.rpo == 0 and result.attempts["acked"] > 50
    assert result.missing_marks == []
    assert next(e.mark for e in result.events if e.mark in {str(m) for m in EXPECTED_MARKS}) == "fault"
    assert result.split_brain is None
    assert result.rejoin is not None and result.rejoin.ok
    old, new = lab.node(result.old_primary), lab.node(result.new_primary)
    assert pgsql.in_recovery(old) and not pgsql.in_recovery(new)
    assert [(r.application_name, r.sync_state) for r in pgsql.replicas(new)] == [(old.name, "sync")]
    assert result.seconds["business_rto"] < 10
    assert result.check is not None and result.check["ok"] and result.check["checked"] > 10


def test_hang_is_detected_fenced_and_failed_over(lab: Lab) -> None:
    result = run_drill(ManualEngine(lab), DrillConfig(fault=Fault.HANG, clients=2, warmup=0.3, settle=0.3))
    assert result.ok, result.failures
    assert "no answer" in next(e.reason for e in result.events if e.mark == "detection")
    assert result.rpo == 0


def test_switchover_then_back_keeps_every_commit(lab: Lab) -> None:
    engine = ManualEngine(lab)
    config = DrillConfig(fault=Fault.SWITCHOVER, clients=2, warmup=0.3, settle=0.2)
    first = run_drill(engine, config)
    second = run_drill(engine, config)
    assert first.ok and second.ok, first.failures + second.failures
    assert (first.old_primary, first.new_primary) == (second.new_primary, second.old_primary)


def test_promotion_without_checkpoint_is_detected_as_divergence(lab: Lab) -> None:
    engine = ManualEngine(lab, ManualPolicy(checkpoint_before_rewind=False))
    # Dirty buffers on the standby keep its end-of-recovery checkpoint busy, as under real load.
    config = DrillConfig(fault=Fault.KILL, clients=2, warmup=0.3, settle=0.2, ballast_rows=100_000)
    result = run_drill(engine, config)
    assert not result.ok
    assert result.divergence is not None and "without a checkpoint" in result.divergence
    assert any(f.startswith("rejoin:") for f in result.failures)
    assert "checkpoint" not in [e.mark for e in result.events]


def test_isolation_fails_over_without_an_ack_from_the_cut_off_node_and_is_always_lifted(lab: Lab) -> None:
    from failover import isolation

    engine = ManualEngine(lab)
    result = run_drill(engine, DrillConfig(fault=Fault.ISOLATE, clients=3, warmup=0.5, settle=0.3))
    assert result.ok, result.failures
    assert result.rpo == 0 and result.attempts["acked"] > 50
    assert result.attempts["acked_by_isolated"] == 0
    assert result.attempts["acked_in_flight_at_cut"] <= result.attempts["acked_by_old_after_fault"] <= 4
    assert result.missing_marks == []
    marks = [e.mark for e in result.events]
    assert "isolation_lifted" in marks
    assert marks.index("isolation_lifted") < marks.index("old_primary_rewound")
    assert "no answer" in next(e.reason for e in result.events if e.mark == "detection")
    assert result.seconds["business_rto"] < 15
    old, new = lab.node(result.old_primary), lab.node(result.new_primary)
    assert [(r.application_name, r.sync_state) for r in pgsql.replicas(new)] == [(old.name, "sync")]
    assert not [t for t in isolation.tables() if t.startswith(f"{isolation.PREFIX}{os.getpid()}_")]


def test_a_failed_isolation_drill_still_lifts_the_cut(lab: Lab) -> None:
    from failover import isolation

    engine = ManualEngine(lab)
    # Too short to see three failed probes: the failover itself fails, the finally block must undo the cut.
    result = run_drill(engine, DrillConfig(fault=Fault.ISOLATE, clients=1, warmup=0.2, settle=0, recover_timeout=0.3))
    assert not result.ok
    assert any(f.startswith("failover:") for f in result.failures)
    assert "isolation_lifted" in [e.mark for e in result.events]
    assert not [t for t in isolation.tables() if t.startswith(f"{isolation.PREFIX}{os.getpid()}_")]
    assert pgsql.tcp_probe(lab.node(result.old_primary).port, 1.0) is None  # reachable again


def test_strict_sync_accepts_no_write_until_the_old_primary_is_back_as_synchronous_standby(lab: Lab) -> None:
    engine = ManualEngine(lab, ManualPolicy(strict_sync=True))
    result = run_drill(engine, DrillConfig(fault=Fault.KILL, clients=3, warmup=0.5, settle=0.3, rto_target=20))
    assert result.ok, result.failures
    assert result.rpo == 0 and result.attempts["acked"] > 50
    assert result.missing_marks == []
    marks = [e.mark for e in result.events]
    assert "sync_dropped" not in marks and "writes_waiting" in marks
    s = result.seconds
    # Rewound and in sync inside the failover, before erpops' first write; no client's commit came back
    # from the new primary before the old one was even rewound (they waited for a synchronous standby).
    assert s["promotion"] < s["old_primary_rewound"] <= s["back_in_sync"] < s["first_write_accepted"]
    assert s["old_primary_rewound"] < s["first_client_back"]
    old, new = lab.node(result.old_primary), lab.node(result.new_primary)
    assert pgsql.query(new, "SHOW synchronous_standby_names") == [("*",)]
    assert [(r.application_name, r.sync_state) for r in pgsql.replicas(new)] == [(old.name, "sync")]
