"""The drill's verdicts on the in-memory engine: what makes a drill pass or fail."""

from __future__ import annotations

from failover.drill import DrillConfig, DrillResult, run_drill, summarize_drills
from failover.engines.fake import FakeCluster, FakeEngine, FakeLoad
from failover.types import Mark


def drill(cluster: FakeCluster, clients: int = 3) -> DrillResult:
    config = DrillConfig(clients=clients, warmup=0, settle=0, recover_timeout=1)
    return run_drill(FakeEngine(cluster), config, lambda conninfo, run, n: FakeLoad(cluster, n))


def test_a_clean_drill_passes_with_a_complete_timeline() -> None:
    result = drill(FakeCluster())
    assert result.ok, result.failures
    assert result.rpo == 0
    assert result.missing_marks == []
    assert result.old_primary == "a" and result.new_primary == "b"
    assert result.attempts["acked"] == 9 and result.attempts["in_doubt"] == 1
    assert result.seconds[str(Mark.DETECTION)] < result.seconds[str(Mark.PROMOTION)]


def test_a_lost_acknowledged_commit_fails_the_drill() -> None:
    result = drill(FakeCluster(lose=2))
    assert not result.ok
    assert result.rpo == 2
    assert any(f.startswith("RPO: 2 acknowledged") for f in result.failures)


def test_in_doubt_commits_are_counted_apart_and_never_as_lost() -> None:
    result = drill(FakeCluster())
    assert result.attempts["in_doubt"] == 1
    assert result.attempts["in_doubt_committed"] == 0
    assert result.rpo == 0


def test_an_old_primary_that_cannot_rejoin_fails_the_drill() -> None:
    result = drill(FakeCluster(rejoin_ok=False))
    assert not result.ok
    assert any("rejoin" in f for f in result.failures)
    assert str(Mark.BACK_IN_SYNC) in result.missing_marks


def test_a_detected_divergence_fails_the_drill_even_when_the_standby_streams() -> None:
    result = drill(FakeCluster(divergence="no rewind required on a stale control file"))
    assert not result.ok
    assert result.divergence == "no rewind required on a stale control file"


def test_split_brain_fails_the_drill() -> None:
    result = drill(FakeCluster(split_brain="a accepted a write after fencing"))
    assert [f for f in result.failures if f.startswith("split brain")]


def test_no_promotion_is_a_failed_drill_not_an_exception() -> None:
    result = drill(FakeCluster(promote=False))
    assert not result.ok
    assert result.failures[0].startswith("failover: no member accepts writes")
    assert result.new_primary == ""


def test_summary_counts_and_medians_over_repeats() -> None:
    results = [drill(FakeCluster()), drill(FakeCluster(lose=1))]
    summary = summarize_drills(results)
    assert summary["drills"] == 2 and summary["passed"] == 1
    assert summary["lost_acknowledged"] == 1
    assert summary["seconds"]["promotion"]["n"] == 2
    assert summary["seconds"]["promotion"]["p50"] is not None


def test_result_serialises_to_plain_data() -> None:
    data = drill(FakeCluster(lose=1)).to_dict()
    assert data["ok"] is False and data["rpo"] == 1
    assert isinstance(data["lost"][0], list)
    assert data["events"][0]["mark"] == "fault"


def test_no_fault_is_injected_before_every_client_has_a_write_acknowledged() -> None:
    cluster = FakeCluster()
    config = DrillConfig(clients=2, warmup=0, settle=0, recover_timeout=1, load_timeout=0.2)
    result = run_drill(FakeEngine(cluster), config, lambda conninfo, run, n: FakeLoad(cluster, n, per_client=0))
    assert result.failures == ["failover: load: 0 of 2 clients had a write acknowledged within 0.2 s; "
                               "no fault was injected"]
    assert result.old_primary == "" and cluster.primary == "a"
    assert not [e for e in result.events if e.mark == Mark.FAULT]
