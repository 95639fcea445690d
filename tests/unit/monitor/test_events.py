"""Alert events from the outbox turned into alerts: defaults, runbook links, and when they end."""

from __future__ import annotations

from monitor.alert import fingerprint
from monitor.events import event_alert

API = "https://erp.example/"


def test_a_bare_event_gets_a_name_a_severity_and_a_runbook_for_that_name() -> None:
    alert = event_alert({}, created_at=100.0, now=100.0, resolve_timeout=300.0, api_url=API)
    assert alert.labels == {"alertname": "ErpAlertEvent", "severity": "warning"}
    assert alert.annotations == {"runbook_url": "https://erp.example/api/monitor/runbooks/ErpAlertEvent"}
    assert alert.starts_at == 100.0
    assert alert.fp == fingerprint(alert.labels)


def test_the_payload_alertname_is_used_unless_the_labels_name_one() -> None:
    named = event_alert({"alertname": "BackupLate"}, 0.0, 0.0, 60.0)
    assert named.name == "BackupLate"
    labelled = event_alert({"alertname": "BackupLate", "labels": {"alertname": "WalGap", "severity": "page"}},
                           0.0, 0.0, 60.0)
    assert labelled.name == "WalGap" and labelled.labels["severity"] == "page"


def test_labels_and_annotations_are_stringified() -> None:
    alert = event_alert({"labels": {"attempt": 3, "ok": False}, "annotations": {"lag": 1.5}}, 0.0, 0.0, 60.0)
    assert alert.labels == {"attempt": "3", "ok": "False", "alertname": "ErpAlertEvent", "severity": "warning"}
    assert alert.annotations["lag"] == "1.5"


def test_null_labels_and_annotations_count_as_none_given() -> None:
    alert = event_alert({"labels": None, "annotations": None, "alertname": "X"}, 0.0, 0.0, 60.0, API)
    assert alert.labels == {"alertname": "X", "severity": "warning"}
    assert alert.annotations == {"runbook_url": "https://erp.example/api/monitor/runbooks/X"}


def test_a_runbook_annotation_as_a_repository_path_points_at_the_api() -> None:
    alert = event_alert({"alertname": "A", "annotations": {"runbook_url": "runbooks/backup/BackupStale.md"}},
                        0.0, 0.0, 60.0, API)
    assert alert.annotations["runbook_url"] == "https://erp.example/api/monitor/runbooks/BackupStale"


def test_an_absolute_runbook_url_is_kept() -> None:
    url = "https://wiki.example/runbooks/x"
    alert = event_alert({"annotations": {"runbook_url": url}}, 0.0, 0.0, 60.0, API)
    assert alert.annotations["runbook_url"] == url


def test_an_empty_runbook_annotation_falls_back_to_the_alert_name() -> None:
    alert = event_alert({"alertname": "Z", "annotations": {"runbook_url": ""}}, 0.0, 0.0, 60.0, API)
    assert alert.annotations["runbook_url"] == "https://erp.example/api/monitor/runbooks/Z"


def test_a_firing_event_ends_resolve_timeout_after_it_was_created() -> None:
    alert = event_alert({"status": "firing"}, created_at=1000.0, now=1200.0, resolve_timeout=300.0)
    assert alert.ends_at == 1300.0
    assert alert.status(1299.9) == "firing"
    assert alert.status(1300.0) == "resolved"  # ends_at <= now is resolved


def test_an_old_firing_event_is_already_resolved_when_taken() -> None:
    alert = event_alert({}, created_at=1000.0, now=2000.0, resolve_timeout=300.0)
    assert alert.resolved(2000.0)


def test_a_resolved_event_ends_now_not_at_its_creation() -> None:
    alert = event_alert({"status": "resolved"}, created_at=1000.0, now=1050.0, resolve_timeout=300.0)
    assert alert.ends_at == 1050.0 and alert.status(1050.0) == "resolved"
    assert alert.starts_at == 1000.0
