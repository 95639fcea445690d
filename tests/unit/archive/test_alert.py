"""The backlog alert watches the gauge `erpops archive status --prometheus` exports, and has its runbook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from types import SimpleNamespace

from archive.plan import FamilyPlan, Plan
from archive.render import metrics_text
from archive.settings import ArchiveSettings
from monitor.rules import load_rules

ROOT = Path(__file__).resolve().parents[3]


def test_the_backlog_rule_reads_the_exported_gauge_and_has_a_runbook() -> None:
    rules = {r.alert: r for g in load_rules() for r in g.rules}
    rule = rules["ErpArchiveBacklogHigh"]
    assert "erpops_archive_backlog_documents" in rule.expr and rule.threshold == 1000 and rule.for_ == 6 * 3600
    assert rule.annotations["runbook_url"].endswith("/ErpArchiveBacklogHigh")
    runbook = ROOT / "runbooks" / "erp" / "ErpArchiveBacklogHigh.md"
    assert runbook.is_file() and "## Mitigation" in runbook.read_text()


def test_the_gauge_counts_movable_documents_per_family() -> None:
    plan = Plan(dt.date(2026, 1, 1), dt.date(2024, 12, 31), "default", [
        FamilyPlan("sales_orders", "", candidates=10, movable=7),
        FamilyPlan("work_orders", "", skipped_reason="table work_order does not exist in this schema yet")])
    text = metrics_text(plan, SimpleNamespace(settings=ArchiveSettings(backlog_alert_documents=5)))  # type: ignore[arg-type]
    assert 'erpops_archive_backlog_documents{family="sales_orders"} 7.0' in text
    assert "work_orders" not in text
    assert "erpops_archive_backlog_threshold_documents 5.0" in text
