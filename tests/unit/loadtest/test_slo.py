"""SLO thresholds: k6-like expressions parse to gates, and each result says why it passed or failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erpcore.exceptions import ConfigError
from loadtest.slo import Baseline, evaluate, load_slo, parse_slo, parse_threshold


class FakeRun:
    """An observer answering from a table of (selector, metric) -> value."""

    def __init__(self, values: dict[tuple[str, str], float]) -> None:
        self.values = values

    def observe(self, selector: str, metric: str) -> float | None:
        return self.values.get((selector, metric))


@pytest.mark.parametrize(("expression", "metric", "op", "limit"), [
    ("p(95) < 300", "p(95)", "<", 300.0),
    ("p(99)<800ms", "p(99)", "<", 800.0),
    ("p(99.9) <= 1.5s", "p(99.9)", "<=", 1500.0),
    ("avg < 120", "avg", "<", 120.0),
    ("med < 50", "med", "<", 50.0),
    ("rate(errors) < 0.01", "rate(errors)", "<", 0.01),
    ("rate(errors) < 1%", "rate(errors)", "<", 0.01),
    ("rate(checks) > 0.99", "rate(checks)", ">", 0.99),
    ("rps > 25", "rps", ">", 25.0),
])
def test_absolute_thresholds_parse(expression: str, metric: str, op: str, limit: float) -> None:
    t = parse_threshold("global", expression)
    assert (t.metric, t.op, t.tolerance) == (metric, op, None)
    assert t.limit == pytest.approx(limit)


@pytest.mark.parametrize(("expression", "metric", "op", "tolerance"), [
    ("p95 within +15% of baseline", "p(95)", "<=", 0.15),
    ("p(99) within +20% of baseline", "p(99)", "<=", 0.20),
    ("rps within -10% of baseline", "rps", ">=", -0.10),
])
def test_relative_thresholds_parse(expression: str, metric: str, op: str, tolerance: float) -> None:
    t = parse_threshold("global", expression)
    assert (t.metric, t.op) == (metric, op)
    assert t.tolerance == pytest.approx(tolerance)


@pytest.mark.parametrize("expression", ["p(95) 300", "p(0) < 3", "p(101) < 3", "rate(errors) < 3ms",
                                        "rps > 3s", "latency < 3", "p95 within 15% of baseline", ""])
def test_unreadable_thresholds_are_config_errors(expression: str) -> None:
    with pytest.raises(ConfigError):
        parse_threshold("global", expression)


def test_file_with_selectors_abort_on_fail_and_baseline(tmp_path: Path) -> None:
    path = tmp_path / "slo.yaml"
    path.write_text("""
thresholds:
  global: ["p(95) < 300", "rate(errors) < 0.01"]
  POST /sales-orders/[id]/approve:
    - threshold: p(99) < 800
      abort_on_fail: true
  order_to_cash: p95 within +15% of baseline
baseline: runs/verdict.json
""")
    slo = load_slo(path)
    assert [(t.selector, t.metric, t.abort_on_fail) for t in slo.thresholds] == [
        ("global", "p(95)", False), ("global", "rate(errors)", False),
        ("POST /sales-orders/[id]/approve", "p(99)", True), ("order_to_cash", "p(95)", False)]
    assert slo.baseline == tmp_path / "runs" / "verdict.json"
    assert slo.selectors == ["global", "POST /sales-orders/[id]/approve", "order_to_cash"]


@pytest.mark.parametrize("document", [
    {}, {"thresholds": []}, {"thresholds": {}}, {"thresholds": {"global": ["p(95) < 1"]}, "other": 1},
    {"thresholds": {"global": [{"threshold": "p(95) < 1", "abort": True}]}},
    {"thresholds": {"global": ["p95 within +5% of baseline"]}},  # relative without a baseline
])
def test_malformed_files_are_config_errors(document: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_slo(document)


def test_evaluation_names_the_breach_and_the_margin() -> None:
    slo = parse_slo({"thresholds": {"global": ["p(95) < 300", "rate(errors) < 0.01", "rate(checks) > 0.99"]}})
    run = FakeRun({("global", "p(95)"): 412.0, ("global", "rate(errors)"): 0.0, ("global", "rate(checks)"): 1.0})
    results = evaluate(slo, run)
    assert [r.ok for r in results] == [False, True, True]
    assert results[0].reason == "p(95) of every request was 412 ms: breached < 300 ms"
    assert results[0].observed == 412.0 and results[0].limit == 300.0
    assert results[1].reason == "rate(errors) of every request was 0.00%: met < 1.00%"


def test_nothing_measured_fails_rather_than_passes() -> None:
    slo = parse_slo({"thresholds": {"POST /typo": ["p(95) < 300"]}})
    [result] = evaluate(slo, FakeRun({}))
    assert not result.ok and "nothing measured" in result.reason


def test_baseline_relative_gates(tmp_path: Path) -> None:
    verdict = tmp_path / "verdict.json"
    verdict.write_text(json.dumps({"metrics": {"global": {"p(95)": 200.0, "rps": 50.0}}}))
    baseline = Baseline.load(verdict)
    slo = parse_slo({"thresholds": {"global": ["p95 within +15% of baseline", "rps within -10% of baseline"]},
                     "baseline": str(verdict)})
    fine = evaluate(slo, FakeRun({("global", "p(95)"): 229.0, ("global", "rps"): 46.0}), baseline)
    assert [r.ok for r in fine] == [True, True]
    assert fine[0].limit == pytest.approx(230.0) and "baseline 200 ms" in fine[0].reason
    worse = evaluate(slo, FakeRun({("global", "p(95)"): 231.0, ("global", "rps"): 44.0}), baseline)
    assert [r.ok for r in worse] == [False, False]
    assert "breached <= 230 ms" in worse[0].reason


def test_a_baseline_without_the_metric_fails_and_says_so(tmp_path: Path) -> None:
    slo = parse_slo({"thresholds": {"order_to_cash": ["p95 within +15% of baseline"]}, "baseline": "x.json"})
    [result] = evaluate(slo, FakeRun({("order_to_cash", "p(95)"): 10.0}), Baseline({"global": {"p(95)": 5.0}}))
    assert not result.ok and "baseline has no value" in result.reason


def test_a_baseline_that_is_not_a_verdict_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "stats.json"
    path.write_text("[]")
    with pytest.raises(ConfigError, match="not a verdict.json"):
        Baseline.load(path)
