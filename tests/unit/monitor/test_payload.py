"""Our webhook bodies against the ones a real Alertmanager 0.25 sent, key for key and value for value."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from monitor.alert import Alert, fingerprint
from monitor.dispatcher import Dispatcher, Route
from monitor.payload import go_time

FIXTURES = Path(__file__).parents[2] / "fixtures" / "alertmanager"


def load(name: str) -> dict[str, object]:
    data: dict[str, object] = json.loads((FIXTURES / name).read_text())
    return data


def epoch(text: str) -> float:
    return dt.datetime.fromisoformat(text).timestamp()


def sample_alert(ends_at: float | None) -> Alert:
    a = load("alertmanager-webhook-sample.json")["alerts"][0]  # type: ignore[index]
    return Alert(a["labels"], a["annotations"], epoch(a["startsAt"]), ends_at, a["generatorURL"])


def test_fingerprint_is_alertmanagers() -> None:
    a = load("alertmanager-webhook-sample.json")["alerts"][0]  # type: ignore[index]
    assert fingerprint(a["labels"]) == a["fingerprint"] == "c26d4d52683ada96"
    assert fingerprint({}) == "cbf29ce484222325"


@pytest.mark.parametrize("name", ["alertmanager-webhook-sample.json", "alertmanager-webhook-sample-resolved.json"])
def test_bodies_match_the_captured_alertmanager_payloads(name: str) -> None:
    expected = load(name)
    ends = expected["alerts"][0]["endsAt"]  # type: ignore[index]
    starts = epoch(expected["alerts"][0]["startsAt"])  # type: ignore[index]
    route = Route(receiver="erp-oncall-webhook", group_by=("alertname", "trial"), group_wait=0)
    dispatcher = Dispatcher(route, external_url="http://127.0.0.1:5804")
    dispatcher.put([sample_alert(None)], starts)
    notes = dispatcher.flush(starts).notifications
    if expected["status"] == "resolved":
        dispatcher.put([sample_alert(epoch(str(ends)))], epoch(str(ends)))
        notes = dispatcher.flush(epoch(str(ends))).notifications
    assert len(notes) == 1
    body = notes[0].body
    assert list(body) == list(expected)
    assert list(body["alerts"][0]) == list(expected["alerts"][0])  # type: ignore[index]
    assert body == expected


def test_go_time_trims_like_go() -> None:
    assert go_time(epoch("2026-11-24T15:31:15.373Z")) == "2026-11-24T15:31:15.373Z"
    assert go_time(epoch("2026-11-24T15:31:15.370Z")) == "2026-11-24T15:31:15.37Z"
    assert go_time(epoch("2026-11-24T15:31:15Z")) == "2026-11-24T15:31:15Z"
