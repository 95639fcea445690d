"""Alert events from the other tools (outbox rows with topic `alert`) turned into alerts.

A firing event stays firing for `resolve_timeout` unless raised again (Alertmanager's rule for alerts
without an end); a resolved event ends it. Taken rows are marked published in the same statement batch.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select, update

from erpcore.alerts import ALERT_TOPIC
from erpcore.models import OutboxMessage
from monitor.alert import Alert
from monitor.links import resolve_runbook


def event_alert(payload: dict[str, Any], created_at: float, now: float, resolve_timeout: float,
                api_url: str = "") -> Alert:
    """The alert one event stands for."""
    labels = {str(k): str(v) for k, v in (payload.get("labels") or {}).items()}
    labels.setdefault("alertname", str(payload.get("alertname", "ErpAlertEvent")))
    labels.setdefault("severity", "warning")
    annotations = {str(k): str(v) for k, v in (payload.get("annotations") or {}).items()}
    annotations["runbook_url"] = resolve_runbook(api_url, annotations.get("runbook_url") or labels["alertname"])
    ends = now if payload.get("status") == "resolved" else created_at + resolve_timeout
    return Alert(labels, annotations, created_at, ends, "")


def take_alert_events(engine: Engine, now: float, resolve_timeout: float, limit: int = 1000,
                      api_url: str = "") -> list[Alert]:
    """Read unpublished alert events (oldest first), mark them published, return them as alerts."""
    stmt = (select(OutboxMessage.id, OutboxMessage.payload, OutboxMessage.created_at)
            .where(OutboxMessage.topic == ALERT_TOPIC, OutboxMessage.published_at.is_(None))
            .order_by(OutboxMessage.id).limit(limit))
    with engine.begin() as conn:
        rows = conn.execute(stmt).all()
        if not rows:
            return []
        conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_([r.id for r in rows]))
                     .values(published_at=dt.datetime.fromtimestamp(now, dt.UTC)))
    alerts = []
    for row in rows:
        created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=dt.UTC)
        alerts.append(event_alert(dict(row.payload), created.timestamp(), now, resolve_timeout, api_url))
    return alerts
