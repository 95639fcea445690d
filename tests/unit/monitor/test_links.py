"""Alert links point at the API: the rule page as generatorURL, the runbook as runbook_url; never /graph."""

from __future__ import annotations

import pytest

from monitor.engine import RuleRunner
from monitor.export import export_rules
from monitor.links import resolve_runbook, rule_url, runbook_url
from monitor.rules import RuleGroup, humanize, parse_rule

API = "https://erp.example.com/"


@pytest.mark.parametrize(("given", "resolved"), [
    ("/api/monitor/runbooks/PostgresqlDown", "https://erp.example.com/api/monitor/runbooks/PostgresqlDown"),
    ("runbooks/postgres/PostgresqlDown.md", "https://erp.example.com/api/monitor/runbooks/PostgresqlDown"),
    ("PostgresqlDown", "https://erp.example.com/api/monitor/runbooks/PostgresqlDown"),
    ("https://wiki.example/Db", "https://wiki.example/Db"),
])
def test_runbook_links_resolve_against_the_api(given: str, resolved: str) -> None:
    assert resolve_runbook(API, given) == resolved


def test_names_are_quoted_into_the_path() -> None:
    assert rule_url(API, "A/B") == "https://erp.example.com/api/monitor/rules/A%2FB"
    assert runbook_url("", "X") == "/api/monitor/runbooks/X"


def test_a_firing_alert_carries_both_links() -> None:
    rule = parse_rule({"alert": "DiskFull", "expr": "x", "threshold": 1,
                       "annotations": {"runbook_url": "/api/monitor/runbooks/DiskFull"}})
    runner = RuleRunner(rule, API)
    runner.step({(): 5.0}, 0.0)
    alert = runner.alerts(0.0)[0]
    assert alert.generator_url == "https://erp.example.com/api/monitor/rules/DiskFull"
    assert alert.annotations["runbook_url"] == "https://erp.example.com/api/monitor/runbooks/DiskFull"


def test_the_prometheus_export_carries_absolute_runbook_links() -> None:
    rule = parse_rule({"alert": "DiskFull", "expr": "x", "threshold": 1,
                       "annotations": {"runbook_url": "/api/monitor/runbooks/DiskFull"}})
    text = export_rules([RuleGroup("g", (rule,))], api_url=API)
    assert "runbook_url: https://erp.example.com/api/monitor/runbooks/DiskFull" in text


def test_humanize_writes_infinities_as_prometheus_does() -> None:
    assert humanize(float("inf"), "humanizeDuration") == "+Inf"
    assert humanize(float("-inf"), "humanize") == "-Inf"
    assert humanize(float("nan"), None) == "NaN"
