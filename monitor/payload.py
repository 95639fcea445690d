"""Alertmanager's webhook body, version 4, key for key, and the body of its /api/v2/alerts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from monitor.alert import Alert
from monitor.clock import ZERO_TIME
from monitor.types import Labels


def go_time(t: float) -> str:
    """A time as Go's JSON encoder writes it (RFC 3339, UTC, trailing zeros of the fraction dropped)."""
    stamp = dt.datetime.fromtimestamp(round(t, 3), dt.UTC)
    frac = f"{stamp.microsecond // 1000:03d}".rstrip("0")
    return stamp.strftime("%Y-%m-%dT%H:%M:%S") + (f".{frac}" if frac else "") + "Z"


def group_key(route_key: str, group_labels: Labels) -> str:
    """Alertmanager's group key: `{}:{alertname="X", trial="y"}` for the root route."""
    inner = ", ".join(f'{k}="{_escape(v)}"' for k, v in sorted(group_labels.items()))
    return f"{route_key}:{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _common(maps: list[Labels]) -> Labels:
    if not maps:
        return {}
    first = maps[0]
    return {k: v for k, v in sorted(first.items()) if all(m.get(k) == v for m in maps[1:])}


def alert_body(alert: Alert, now: float) -> dict[str, object]:
    resolved = alert.resolved(now)
    return {
        "status": "resolved" if resolved else "firing",
        "labels": dict(sorted(alert.labels.items())),
        "annotations": dict(sorted(alert.annotations.items())),
        "startsAt": go_time(alert.starts_at),
        "endsAt": go_time(alert.ends_at) if resolved and alert.ends_at is not None else ZERO_TIME,
        "generatorURL": alert.generator_url,
        "fingerprint": alert.fp,
    }


def webhook_body(
    receiver: str,
    alerts: Sequence[Alert],
    group_labels: Labels,
    key: str,
    external_url: str,
    now: float,
    max_alerts: int = 0,
) -> dict[str, object]:
    """The JSON Alertmanager POSTs to a webhook receiver for one group (firing alerts first)."""
    ordered = sorted(alerts, key=lambda a: (a.resolved(now), a.starts_at, a.fp))
    shown = ordered[:max_alerts] if max_alerts > 0 else ordered
    firing = any(not a.resolved(now) for a in alerts)
    return {
        "receiver": receiver,
        "status": "firing" if firing else "resolved",
        "alerts": [alert_body(a, now) for a in shown],
        "groupLabels": dict(sorted(group_labels.items())),
        "commonLabels": _common([a.labels for a in alerts]),
        "commonAnnotations": _common([a.annotations for a in alerts]),
        "externalURL": external_url,
        "version": "4",
        "groupKey": key,
        "truncatedAlerts": len(ordered) - len(shown),
    }


def api_v2_alerts(alerts: Sequence[Alert], now: float, valid_for: float) -> list[dict[str, object]]:
    """The body of POST /api/v2/alerts: firing alerts valid for `valid_for`, resolved ones with their end."""
    out: list[dict[str, object]] = []
    for a in alerts:
        ends = a.ends_at if a.ends_at is not None else now + valid_for
        out.append({
            "labels": a.labels,
            "annotations": a.annotations,
            "startsAt": go_time(a.starts_at),
            "endsAt": go_time(ends),
            "generatorURL": a.generator_url,
        })
    return out
