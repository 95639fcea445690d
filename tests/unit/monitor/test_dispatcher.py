"""Grouping, repeats, fast resolved notices, silences and inhibition, on a manual clock."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.exceptions import ValidationFailed
from monitor.alert import Alert
from monitor.dispatcher import Dispatcher, InhibitRule, Route
from monitor.silences import SilenceStore, new_silence, parse_matcher

T0 = 1_800_000_000.0


def alert(name: str = "DiskFull", ends_at: float | None = None, **labels: str) -> Alert:
    return Alert({"alertname": name, "severity": "warning", **labels}, {"summary": name}, T0, ends_at)


def route(**kw: object) -> Route:
    return Route(**{"receiver": "oncall", "group_by": ("alertname",), "group_wait": 1.0, "group_interval": 10.0, "repeat_interval": 60.0, **kw})  # type: ignore[arg-type]


def test_defaults_are_alertmanagers() -> None:
    r = Route()
    assert (r.group_by, r.group_wait, r.group_interval, r.repeat_interval) == ((), 30.0, 300.0, 14400.0)


def test_hundred_firing_instances_give_one_grouped_notification() -> None:
    d = Dispatcher(route())
    d.put([alert(instance=f"host{i}") for i in range(100)], T0)
    assert d.flush(T0 + 0.5).notifications == []  # group_wait gathers
    flush = d.flush(T0 + 1.0)
    assert len(flush.notifications) == 1
    body = flush.notifications[0].body
    assert len(body["alerts"]) == 100  # type: ignore[arg-type]
    assert body["groupLabels"] == {"alertname": "DiskFull"}
    assert "100 new firing" in flush.reasons[0]
    d.put([alert(instance=f"host{i}") for i in range(100)], T0 + 5)  # re-sent by the engine: deduplicated
    assert d.flush(T0 + 11).notifications == []
    assert "nothing new (100 firing" in d.flush(T0 + 21).reasons[0]


def test_repeat_interval_resends_while_firing() -> None:
    d = Dispatcher(route())
    d.put([alert()], T0)
    assert len(d.flush(T0 + 1).notifications) == 1
    assert d.flush(T0 + 31).notifications == []
    repeat = d.flush(T0 + 61)
    assert len(repeat.notifications) == 1 and "repeat after 60s" in repeat.reasons[0]


def test_resolved_notice_goes_out_at_once_not_at_the_group_tick() -> None:
    d = Dispatcher(route())
    d.put([alert()], T0)
    d.flush(T0 + 1)
    d.put([alert(ends_at=T0 + 2)], T0 + 2)
    flush = d.flush(T0 + 2)
    assert len(flush.notifications) == 1
    body = flush.notifications[0].body
    assert body["status"] == "resolved" and "sent at once" in flush.reasons[0]
    assert d.groups == {}


def test_alert_that_resolves_during_group_wait_is_never_sent() -> None:
    d = Dispatcher(route())
    d.put([alert()], T0)
    d.put([alert(ends_at=T0 + 0.5)], T0 + 0.5)
    assert d.flush(T0 + 1).notifications == []


def test_group_by_all_labels_and_by_nothing() -> None:
    each = Dispatcher(route(group_by=("...",)))
    each.put([alert(instance="a"), alert(instance="b")], T0)
    assert len(each.flush(T0 + 1).notifications) == 2
    one = Dispatcher(route(group_by=()))
    one.put([alert("A"), alert("B")], T0)
    notes = one.flush(T0 + 1).notifications
    assert len(notes) == 1 and notes[0].group_key == "{}:{}"


def test_silences_mute_what_they_match_and_nothing_else(tmp_path: Path) -> None:
    store = SilenceStore(tmp_path / "silences.json")
    silence = store.add(new_silence(['instance=~"db.*"', "severity=warning"], T0 - 1, T0 + 100, "ana", "maintenance"))
    d = Dispatcher(route(group_by=("...",)), silences=SilenceStore(tmp_path / "silences.json"))
    d.put([alert(instance="db1"), alert(instance="web1"), alert(instance="db2", severity="critical")], T0)
    sent = {n.body["alerts"][0]["labels"]["instance"] for n in d.flush(T0 + 1).notifications}  # type: ignore[index]
    assert sent == {"web1", "db2"}
    assert d.muted(alert(instance="db1"), T0 + 1) == f"silenced by {silence.id}"
    store.expire(silence.id, T0 + 50)
    assert d.muted(alert(instance="db1"), T0 + 50) is None
    later = d.flush(T0 + 51).notifications
    assert [n.body["alerts"][0]["labels"]["instance"] for n in later] == ["db1"]  # type: ignore[index]


def test_silence_window_is_respected() -> None:
    s = new_silence(["alertname=DiskFull"], T0 + 10, T0 + 20, "ana", "later")
    assert [s.state(t) for t in (T0, T0 + 10, T0 + 20)] == ["pending", "active", "expired"]


@pytest.mark.parametrize(
    ("matchers", "author", "reason"),
    [([], "ana", "at least one matcher"), (["x=1"], " ", "author"), (['x=~".*"'], "ana", "mute everything"),
     (["x~1"], "ana", "not a matcher")],
)
def test_bad_silences_are_refused(matchers: list[str], author: str, reason: str) -> None:
    with pytest.raises(ValidationFailed, match=reason):
        new_silence(matchers, T0, T0 + 1, author, "c")


def test_inhibition_mutes_targets_with_equal_labels_only() -> None:
    rule = InhibitRule((parse_matcher("severity=critical"),), (parse_matcher("severity=warning"),), ("instance",))
    d = Dispatcher(route(group_by=("...",)), inhibit_rules=[rule])
    source = Alert({"alertname": "PostgresDown", "severity": "critical", "instance": "db1"}, {}, T0)
    d.put([source, alert("PgConnections", instance="db1"), alert("PgConnections", instance="db2")], T0)
    names = sorted((n.body["alerts"][0]["labels"]["alertname"], n.body["alerts"][0]["labels"]["instance"])  # type: ignore[index]
                   for n in d.flush(T0 + 1).notifications)
    assert names == [("PgConnections", "db2"), ("PostgresDown", "db1")]
    assert d.muted(alert("PgConnections", instance="db1"), T0 + 1) is not None
    d.put([Alert(source.labels, {}, T0, T0 + 5)], T0 + 5)  # the source resolves: the target speaks
    notes = d.flush(T0 + 11).notifications
    assert ("PgConnections", "db1") in [(n.body["alerts"][0]["labels"]["alertname"],  # type: ignore[index]
                                          n.body["alerts"][0]["labels"]["instance"]) for n in notes]  # type: ignore[index]


def test_alertmanager_sink_hands_over_every_current_alert() -> None:
    from monitor.payload import go_time
    from monitor.service import AlertmanagerSink

    sink = AlertmanagerSink(valid_for=240.0)
    assert sink.due(T0) == []
    sink.put([alert(instance="a"), alert(instance="b", ends_at=T0 - 1)], T0)
    [(key, body, reason)] = sink.due(T0)
    assert key == "alerts" and reason == "hand 2 alerts to Alertmanager"
    ends = {a["labels"]["instance"]: a["endsAt"] for a in body}
    assert ends == {"a": go_time(T0 + 240), "b": go_time(T0 - 1)}
    assert set(body[0]) == {"labels", "annotations", "startsAt", "endsAt", "generatorURL"}


def test_silencing_every_alert_of_a_notified_group_sends_no_empty_notification() -> None:
    store = SilenceStore()
    d = Dispatcher(route(), silences=store)
    d.put([alert()], T0)
    assert len(d.flush(T0 + 1.0).notifications) == 1
    store.add(new_silence(["alertname=DiskFull"], T0 + 2, T0 + 3600, "ana", "c", now=T0 + 2))
    d.put([alert()], T0 + 11)
    flush = d.flush(T0 + 11.0)
    assert flush.notifications == [] and "nothing to send (1 muted)" in flush.reasons[0]
    d.put([alert()], T0 + 200)
    assert d.flush(T0 + 200.0).notifications == []  # still muted: no repeat either
