"""Alert events from any tool, carried through the outbox so no tool imports another.

A backup drill that fails, an archive batch that cannot verify, a business rule that intercepts a
document: each writes one `outbox` row with topic `alert`. The monitor's alerting engine reads them
and treats them like any rule's alert (grouping, silences, inhibition, webhooks).
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import Connection, Engine, insert

from erpcore.models import OutboxMessage

ALERT_TOPIC = "alert"
Severity = Literal["info", "warning", "critical"]


def alert_payload(
    name: str,
    summary: str,
    severity: Severity = "warning",
    labels: dict[str, str] | None = None,
    status: Literal["firing", "resolved"] = "firing",
) -> dict[str, object]:
    return {
        "alertname": name,
        "status": status,
        "labels": {"alertname": name, "severity": severity, **(labels or {})},
        "annotations": {"summary": summary},
    }


def raise_alert(
    target: Engine | Connection,
    name: str,
    summary: str,
    severity: Severity = "warning",
    labels: dict[str, str] | None = None,
    status: Literal["firing", "resolved"] = "firing",
) -> None:
    """Record an alert event for the monitor (in the caller's transaction when given a Connection)."""
    stmt = insert(OutboxMessage).values(
        topic=ALERT_TOPIC, payload=alert_payload(name, summary, severity, labels, status)
    )
    if isinstance(target, Engine):
        with target.begin() as conn:
            conn.execute(stmt)
    else:
        target.execute(stmt)
