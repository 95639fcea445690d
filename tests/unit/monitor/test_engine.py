"""The rule engine's state machine, stepped with explicit values and a manual clock."""

from __future__ import annotations

from monitor.engine import RuleRunner
from monitor.rules import Rule, parse_rule
from monitor.tsdb import SeriesStore
from monitor.types import AlertState, Comparison, LabelKey

KEY: LabelKey = (("instance", "db1"),)


def make_rule(**overrides: object) -> Rule:
    data: dict[str, object] = {
        "alert": "DemoHigh", "expr": "demo_signal", "op": ">", "threshold": 100,
        "labels": {"severity": "critical"},
        "annotations": {"summary": "{{ $labels.instance }} is {{ $value }}", "runbook_url": "runbooks/x.md"},
    }
    data.update(overrides)
    return parse_rule(data)


def run(runner: RuleRunner, values: list[float | None], start: float = 0.0) -> list[AlertState]:
    states = []
    for i, v in enumerate(values):
        vector = {} if v is None else {KEY: v}
        ev = runner.step(vector, start + i)
        states.append(ev.instances[0].state if ev.instances else AlertState.INACTIVE)
    return states


def test_no_for_fires_on_first_crossing_and_says_why() -> None:
    runner = RuleRunner(make_rule(no_data="ok"))
    ev = runner.step({KEY: 150.0}, 0.0)
    assert ev.state == AlertState.FIRING
    assert ev.instances[0].previous == AlertState.INACTIVE
    assert "150 > 100, no `for`: firing" in ev.instances[0].reason
    alert = runner.alerts(0.0)[0]
    assert alert.labels == {"instance": "db1", "severity": "critical", "alertname": "DemoHigh"}
    assert alert.annotations["summary"] == "db1 is 150"
    assert alert.ends_at is None


def test_pending_that_clears_never_notifies() -> None:
    runner = RuleRunner(make_rule(**{"for": "5s"}))
    states = run(runner, [150, 150, 150, 90, 90])
    assert states == [AlertState.PENDING] * 3 + [AlertState.INACTIVE, AlertState.INACTIVE]
    assert runner.alerts(5.0) == []
    ev = runner.step({KEY: 90.0}, 6.0)
    assert ev.changes == []


def test_for_fires_after_the_condition_held_long_enough() -> None:
    runner = RuleRunner(make_rule(**{"for": "3s"}))
    states = run(runner, [150, 150, 150, 150, 150])
    assert states == [AlertState.PENDING] * 3 + [AlertState.FIRING, AlertState.FIRING]
    assert runner.alerts(4.0)[0].starts_at == 3.0


def test_keep_firing_for_holds_through_a_short_dip_then_resolves() -> None:
    runner = RuleRunner(make_rule(keep_firing_for="3s"))
    states = run(runner, [150, 90, 90, 150, 90, 90, 90, 90])
    f, r = AlertState.FIRING, AlertState.RESOLVED
    assert states == [f, f, f, f, f, f, r, r]
    resolved = runner.alerts(7.0)[0]
    assert resolved.ends_at == 6.0 and resolved.resolved(7.0)


def test_oscillation_around_threshold_gives_one_fire_and_one_resolve_with_hysteresis() -> None:
    signal = [100 * (1 + 0.03 * (-1) ** i) for i in range(40)] + [80.0] * 3
    with_h = RuleRunner(make_rule(resolve_threshold=90))
    without = RuleRunner(make_rule())
    transitions_h = _transitions(with_h, signal)
    transitions = _transitions(without, signal)
    assert transitions_h == [AlertState.FIRING, AlertState.RESOLVED]
    assert transitions.count(AlertState.FIRING) == 20  # the storm hysteresis prevents


def _transitions(runner: RuleRunner, signal: list[float]) -> list[AlertState]:
    out: list[AlertState] = []
    for i, v in enumerate(signal):
        for change in runner.step({KEY: v}, float(i)).changes:
            if change.state in (AlertState.FIRING, AlertState.RESOLVED):
                out.append(change.state)
    return out


def test_resolved_instance_fires_again_when_the_condition_returns() -> None:
    runner = RuleRunner(make_rule())
    assert run(runner, [150, 50, 150]) == [AlertState.FIRING, AlertState.RESOLVED, AlertState.FIRING]


def test_nodata_holds_instances_and_reports_the_state() -> None:
    runner = RuleRunner(make_rule(no_data="alerting"))
    runner.step({KEY: 150.0}, 0.0)
    ev = runner.step({}, 1.0)
    assert ev.state == AlertState.NODATA
    assert "no series" in ev.reason
    assert ev.instances[0].state == AlertState.FIRING
    names = sorted(a.name for a in runner.alerts(1.0))
    assert names == ["DemoHigh", "MonitorNoData"]
    runner.step({KEY: 150.0}, 2.0)
    meta = [a for a in runner.alerts(2.0) if a.name == "MonitorNoData"]
    assert meta and meta[0].ends_at == 2.0


def test_no_data_ok_resolves_like_prometheus() -> None:
    runner = RuleRunner(make_rule(no_data="ok"))
    assert run(runner, [150, None]) == [AlertState.FIRING, AlertState.RESOLVED]


def test_a_failing_query_is_the_error_state() -> None:
    runner = RuleRunner(make_rule(expr="rate(demo_signal)"))
    ev = runner.evaluate(SeriesStore(), 0.0)
    assert ev.state == AlertState.ERROR
    assert "query failed" in ev.reason
    assert [a.name for a in runner.alerts(0.0)] == ["MonitorRuleError"]


def test_evaluate_reads_the_store() -> None:
    store = SeriesStore()
    store.add("demo_signal", {"instance": "db1"}, 0.0, 150.0)
    store.add("demo_signal", {"instance": "db2"}, 0.0, 50.0)
    ev = RuleRunner(make_rule()).evaluate(store, 1.0)
    firing = [i.labels["instance"] for i in ev.instances if i.state == AlertState.FIRING]
    assert firing == ["db1"]
    assert ev.reason.startswith("DemoHigh: 2 series, 1 firing")


def test_less_than_rules_use_hysteresis_upwards() -> None:
    rule = make_rule(op="<", threshold=0.9, resolve_threshold=0.95)
    assert rule.op == Comparison.LT
    runner = RuleRunner(rule)
    assert run(runner, [0.85, 0.92, 0.96]) == [AlertState.FIRING, AlertState.FIRING, AlertState.RESOLVED]
