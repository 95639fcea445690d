"""Reports: a stable JSON document, RTO/RPO gauges and a Markdown page, from fake drills."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failover.drill import DrillConfig, DrillResult, run_drill
from failover.engines.fake import FakeCluster, FakeEngine, FakeLoad
from failover.report import markdown, metrics, report_document, write_reports
from failover.timeline import Timeline
from failover.types import Mark


def drills(*clusters: FakeCluster) -> list[DrillResult]:
    config = DrillConfig(clients=2, warmup=0, settle=0, recover_timeout=1)
    return [run_drill(FakeEngine(c), config, lambda conninfo, run, n, c=c: FakeLoad(c, n)) for c in clusters]


def test_document_verdict_follows_every_drill() -> None:
    assert report_document(drills(FakeCluster(), FakeCluster()), {})["ok"] is True
    assert report_document(drills(FakeCluster(), FakeCluster(lose=1)), {})["ok"] is False
    assert report_document([], {})["ok"] is False


def test_metrics_expose_rto_and_rpo_as_gauges() -> None:
    gauges = metrics(drills(FakeCluster(lose=2)))
    assert gauges["erpops_failover_rpo_lost_acknowledged_commits"] == 2.0
    assert gauges["erpops_failover_drills_failed"] == 1.0
    assert gauges["erpops_failover_business_rto_seconds_p50"] >= 0


def test_markdown_shows_verdict_failures_and_the_timeline() -> None:
    page = markdown(json.loads(json.dumps(report_document(drills(FakeCluster(lose=1)), {}), default=str)))
    assert "**Verdict:** FAILED" in page
    assert "- RPO: 1 acknowledged commits missing on b" in page
    assert "| 0.000 | fault |" in page


def test_write_reports_writes_json_and_markdown(tmp_path: Path) -> None:
    json_path, md_path = write_reports(report_document(drills(FakeCluster()), {"x": 1.0}), tmp_path / "r", "d1")
    assert json.loads(json_path.read_text())["targets"] == {"x": 1.0}
    assert md_path.read_text().startswith("# Failover drill report")


def test_since_fault_keeps_the_first_of_each_mark() -> None:
    timeline = Timeline()
    timeline.mark(Mark.FAULT, "f", at=100.0)
    timeline.mark(Mark.DETECTION, "first", at=100.5)
    timeline.mark(Mark.DETECTION, "again", at=101.0)
    assert timeline.since_fault() == {"fault": 0.0, "detection": 0.5}
    assert Timeline().since_fault() == {}


def test_an_interrupted_report_write_leaves_no_partial_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    from failover import report

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        report.write_reports(report_document([], {}), tmp_path, "drill")
    assert list(tmp_path.iterdir()) == []
