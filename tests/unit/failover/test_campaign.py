"""A drill campaign on the in-memory engine: its verdict and reasons, its reports, its progress, its clean-up."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failover import campaign, isolation
from failover.campaign import CampaignRequest, run_campaign
from failover.engines import ENGINES
from failover.engines.base import HaEngine
from failover.engines.fake import FakeCluster, FakeEngine, FakeLoad
from failover.settings import FailoverSettings
from failover.types import EngineName, Fault


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> tuple[FakeCluster, list[FakeEngine]]:
    """The manual engine's builder swapped for the fake one; the engines it built, to look at afterwards."""
    cluster, built = FakeCluster(), []

    def build(settings: FailoverSettings, skip_checkpoint: bool, base: Path) -> HaEngine:
        assert base.is_dir()  # the guard made the lab directory before the engine
        engine = FakeEngine(cluster)
        built.append(engine)
        return engine

    monkeypatch.setitem(ENGINES, EngineName.MANUAL, build)
    monkeypatch.setattr(campaign, "builtin_writer", lambda conninfo, run, n: FakeLoad(cluster, n))
    monkeypatch.setattr(isolation, "lift_leftovers", list)
    return cluster, built


def settings() -> FailoverSettings:
    return FailoverSettings(warmup_seconds=0, settle_seconds=0, recover_timeout=1, clients=2)


def test_a_passing_campaign_says_so_writes_both_reports_and_closes_its_engine(
    fake: tuple[FakeCluster, list[FakeEngine]], tmp_path: Path
) -> None:
    lines: list[str] = []
    request = CampaignRequest(EngineName.MANUAL, Fault.KILL, repeat=2, report_dir=tmp_path, erp_check=False)
    result = run_campaign(request, settings(), lines.append)
    assert result.ok and result.reason == "2 of 2 drills passed their targets"
    assert result.alert == "no alert: every drill passed"
    assert [r.ok for r in result.results] == [True, True]
    document = json.loads(result.reports[0].read_text())
    assert document["summary"]["drills"] == 2 and document["ok"] is True
    assert "PASSED" in result.reports[1].read_text()
    assert json.loads(json.dumps(result.to_dict()))["reason"] == result.reason
    assert fake[1][0].closed
    base = Path(lines[0].rsplit(" ", 1)[-1])
    assert lines[0].startswith("lab: starting the manual lab in ") and not base.exists()
    assert "drill 2/2: kill on manual" in lines
    assert any(line.startswith("  fault: kill of a") for line in lines)
    assert lines[-1] == "drills done: stopping the lab"


def test_a_failed_drill_is_a_result_with_its_reason_not_an_exception(
    fake: tuple[FakeCluster, list[FakeEngine]], tmp_path: Path
) -> None:
    fake[0].lose = 1
    request = CampaignRequest(EngineName.MANUAL, Fault.KILL, report_dir=tmp_path, erp_check=False, alert=False)
    result = run_campaign(request, settings())
    assert not result.ok
    assert result.reason == "1 of 1 drills failed their targets"
    assert result.alert == "no alert: --no-alert"
    assert any(f.startswith("RPO: 1 acknowledged") for f in result.results[0].failures)


def test_the_tables_of_killed_drills_are_lifted_first_and_said(
    fake: tuple[FakeCluster, list[FakeEngine]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(isolation, "lift_leftovers", lambda: ["erpops_iso_4242_1"])
    lines: list[str] = []
    request = CampaignRequest(EngineName.MANUAL, Fault.KILL, report_dir=tmp_path, erp_check=False)
    result = run_campaign(request, settings(), lines.append)
    assert result.lifted_leftovers == ["erpops_iso_4242_1"]
    assert lines[0] == "lifted isolation tables left by killed drills: erpops_iso_4242_1"


def test_an_interrupted_campaign_still_closes_its_engine_and_removes_the_lab(
    fake: tuple[FakeCluster, list[FakeEngine]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(campaign, "run_drill", interrupted)
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        run_campaign(CampaignRequest(report_dir=tmp_path, erp_check=False), settings(), lines.append)
    assert fake[1][0].closed
    assert not Path(lines[0].rsplit(" ", 1)[-1]).exists()
    assert not list(tmp_path.iterdir())  # no report for a campaign that did not finish


def test_an_unknown_engine_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from failover.engines import build_engine
    from failover.types import FailoverUsage

    monkeypatch.delitem(ENGINES, EngineName.PATRONI)
    with pytest.raises(FailoverUsage, match="no engine named patroni; choose one of: manual, pg_auto_failover"):
        build_engine(EngineName.PATRONI, settings())


def test_a_report_dir_that_cannot_be_written_is_refused_before_any_lab_starts(
    fake: tuple[FakeCluster, list[FakeEngine]], tmp_path: Path
) -> None:
    from failover.types import FailoverUsage

    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(FailoverUsage, match=f"cannot write reports to {blocker}/r: Not a directory; pass a "
                                            "writable --report-dir"):
        run_campaign(CampaignRequest(report_dir=blocker / "r", erp_check=False), settings())
    assert fake[1] == []  # no engine, no lab was built
