"""The rich views show what the engines decided, with the reasons."""

from __future__ import annotations

from rich.console import Console

from advisor.analyze import AnalyzeReport, QueryBenefit, Recommendation, Skipped
from advisor.apply import Change, ChangeResult
from advisor.candidates import Candidate
from advisor.health import Finding, HealthReport
from advisor.render import render_analysis, render_changes, render_health
from advisor.verify import IndexCheck, Verification


def _console() -> Console:
    return Console(width=240, record=True)


def _report() -> AnalyzeReport:
    cand = Candidate("orders", (("status", False), ("order_date", False)))
    rec = Recommendation(cand.name, "orders", cand.describe(), ["status", "order_date"], [], cand.ddl() + ";",
                         5000.0, 0.42, 3 * 2**20, 100, 7,
                         [QueryBenefit("SELECT id FROM orders WHERE status = $1", 50, 120.0, 20.0, 300.0, 90.0)],
                         "helps 1 statement(s) (50 calls)", cand)
    return AnalyzeReport(3, 2, 9, 12000.0, 7000.0, [rec], [Skipped("SELECT * FROM gone", "no such table")],
                         [Skipped("SELECT $1", "no column for $1")], ["round 1"], 40, 0.5, "1 index(es) cut ...")


def test_the_analysis_view_shows_the_create_statement_reasons_and_skips() -> None:
    console = _console()
    render_analysis(console, _report())
    text = console.export_text()
    assert "CREATE INDEX CONCURRENTLY ix_orders_status_order_date ON orders (status, order_date);" in text
    assert "42.0%" in text and "3.0" in text  # share and estimated MB
    assert "helps 1 statement(s) (50 calls)" in text
    assert "no such table" in text and "generic plan only" in text
    assert "1 index(es) cut" in text


def test_the_verification_is_shown_with_disagreements() -> None:
    report = _report()
    report.verification = Verification("a scratch copy", [IndexCheck("ix_a", 6.0, 40.0, 2**20, 2**19, 0.1, True,
                                                                       "the estimate is 6.7x off")], {}, "checked")
    console = _console()
    render_analysis(console, report)
    text = console.export_text()
    assert "Verified on a scratch copy" in text and "DISAGREES" in text and "40.0x" in text


def test_the_health_view_lists_each_finding_with_its_drop() -> None:
    report = HealthReport("2026-12-01", 5, [Finding("unused", "ix_a", "t", ["a"], 2**20, 0,
                                                    "DROP INDEX CONCURRENTLY ix_a;", "no scan since 2026-12-01")],
                          [], "1 unused")
    console = _console()
    render_health(console, report)
    text = console.export_text()
    assert "DROP INDEX CONCURRENTLY ix_a;" in text and "no scan since 2026-12-01" in text
    assert "observed since 2026-12-01" in text


def test_the_changes_view_shows_each_action() -> None:
    result = ChangeResult([Change("ix_a", "t", "created", "CREATE INDEX CONCURRENTLY ix_a ON t (a)", "valid", 0.2,
                                  2**20)], batch=3)
    console = _console()
    render_changes(console, result)
    text = console.export_text()
    assert "Batch 3" in text and "created" in text and "1 created" in text
