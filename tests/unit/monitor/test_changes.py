"""`monitor run` reports changes only: alerts that start or stop firing, broken rules and sources, once each."""

from __future__ import annotations

from monitor.alert import Alert
from monitor.changes import ChangeKind, ChangeTracker
from monitor.clock import ManualClock
from monitor.dispatcher import Dispatcher, Route
from monitor.engine import RuleEvaluation
from monitor.rules import parse_rule
from monitor.service import EmbeddedSink, Monitor
from monitor.tsdb import Sample
from monitor.types import AlertState

RULE = {"alert": "DiskFull", "expr": "disk_used_ratio", "op": ">", "threshold": 0.9,
        "labels": {"severity": "critical"}, "annotations": {"runbook_url": "https://wiki/DiskFull"}}


def monitor_with(values: list[float | None]) -> tuple[Monitor, ManualClock]:
    clock = ManualClock()

    def source() -> list[Sample]:
        value = values.pop(0)
        if value is None:
            raise OSError("disk gone")
        return [Sample({"__name__": "disk_used_ratio", "mount": "/"}, value)]

    sink = EmbeddedSink(Dispatcher(Route(receiver="r", group_wait=3600)))
    monitor = Monitor([parse_rule(RULE)], sink, sources={"disk": source}, clock=clock)
    return monitor, clock


def kinds(monitor: Monitor, clock: ManualClock, ticks: int) -> list[list[tuple[str, str]]]:
    out = []
    for _ in range(ticks):
        out.append([(c.kind.value, c.subject) for c in monitor.tick().changes])
        clock.advance(1.0)
    return out


def test_a_firing_alert_is_reported_once_then_its_end() -> None:
    monitor, clock = monitor_with([0.95, 0.95, 0.95, 0.5, 0.5])
    assert kinds(monitor, clock, 5) == [[("firing", "DiskFull")], [], [], [("resolved", "DiskFull")], []]


def test_the_change_names_the_alert_its_labels_and_why() -> None:
    monitor, _ = monitor_with([0.95])
    change = monitor.tick().changes[0]
    assert change.subject == "DiskFull" and change.labels == {"mount": "/", "severity": "critical"}
    assert change.reason == "0.95 > 0.9, no `for`: firing"
    assert change.to_dict() == {"at": change.at, "kind": "firing", "subject": "DiskFull",
                                "labels": {"mount": "/", "severity": "critical"}, "reason": change.reason}


def test_a_failing_source_is_reported_when_it_fails_and_when_it_recovers() -> None:
    monitor, clock = monitor_with([0.5, None, None, 0.5])
    assert kinds(monitor, clock, 4) == [[], [("source-failed", "disk")], [], [("source-recovered", "disk")]]


def test_rules_that_break_are_reported_once() -> None:
    tracker = ChangeTracker()
    broken = RuleEvaluation("R", AlertState.ERROR, 0.0, "R: query failed: boom")
    fine = RuleEvaluation("R", AlertState.INACTIVE, 2.0, "R: 1 series, 0 firing")
    assert [c.kind for c in tracker.rules([broken], 0.0)] == [ChangeKind.RULE_BROKEN]
    assert tracker.rules([broken], 1.0) == []
    assert [c.kind for c in tracker.rules([fine], 2.0)] == [ChangeKind.RULE_RECOVERED]


def test_no_data_is_news_only_for_rules_that_alert_on_it() -> None:
    nodata = RuleEvaluation("R", AlertState.NODATA, 0.0, "R: the query returned no series")
    assert ChangeTracker().rules([nodata], 0.0) == []
    assert len(ChangeTracker(alerting_no_data=frozenset({"R"})).rules([nodata], 0.0)) == 1


def test_sent_notifications_are_changes() -> None:
    monitor, _ = monitor_with([0.95, 0.95])
    monitor.sink = EmbeddedSink(Dispatcher(Route(receiver="r", group_wait=0)))
    first = monitor.tick().changes
    assert [c.kind for c in first] == [ChangeKind.FIRING, ChangeKind.SENT]
    assert isinstance(Alert({"alertname": "x"}, {}, 0.0).fp, str)
