"""Alertmanager's notification pipeline, embedded: dedup, inhibition, silences, grouping, repeats.

Alerts are deduplicated by fingerprint. Each unmuted alert joins the group of its `group_by` labels;
a new group waits `group_wait` to gather its alerts, then is flushed every `group_interval` when it
changed and re-sent every `repeat_interval` while it still fires. Unlike Alertmanager, a group whose
notified alert resolves is flushed at once, so the resolved notice does not wait for a group tick.
Every flush decision is returned with its reason.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.alert import Alert
from monitor.payload import group_key, webhook_body
from monitor.silences import LabelMatcher, SilenceStore, matches_all
from monitor.types import Labels

ALL_LABELS = "..."


@dataclass(frozen=True)
class Route:
    """The root route: Alertmanager's names and defaults (group_by empty = one group for everything)."""

    receiver: str = "default"
    group_by: tuple[str, ...] = ()
    group_wait: float = 30.0
    group_interval: float = 300.0
    repeat_interval: float = 4 * 3600.0
    max_alerts: int = 0

    def group_labels(self, labels: Labels) -> Labels:
        if ALL_LABELS in self.group_by:
            return dict(labels)
        return {k: labels[k] for k in self.group_by if k in labels}


@dataclass(frozen=True)
class InhibitRule:
    """Mute alerts matching `target_matchers` while one matching `source_matchers` fires, if `equal` agree."""

    source_matchers: tuple[LabelMatcher, ...]
    target_matchers: tuple[LabelMatcher, ...]
    equal: tuple[str, ...] = ()

    def inhibits(self, source: Labels, target: Labels) -> bool:
        return (
            matches_all(self.source_matchers, source)
            and matches_all(self.target_matchers, target)
            and all(source.get(k, "") == target.get(k, "") for k in self.equal)
        )


@dataclass(frozen=True)
class Notification:
    receiver: str
    group_key: str
    body: dict[str, object]
    reason: str
    created_at: float


@dataclass
class Group:
    key: str
    labels: Labels
    created_at: float
    next_flush: float
    fps: set[str] = field(default_factory=set)
    sent_firing: set[str] = field(default_factory=set)
    last_sent_at: float | None = None
    urgent: bool = False


@dataclass(frozen=True)
class FlushResult:
    notifications: list[Notification]
    reasons: list[str]


class Dispatcher:
    """Receives alerts (`put`) and, on each `flush(now)`, returns the notifications that are due."""

    def __init__(self, route: Route | None = None, inhibit_rules: Iterable[InhibitRule] = (),
                 silences: SilenceStore | None = None, external_url: str = "") -> None:
        self.route = route or Route()
        self.inhibit_rules = list(inhibit_rules)
        self.silences = silences or SilenceStore()
        self.external_url = external_url
        self.alerts: dict[str, Alert] = {}
        self.groups: dict[str, Group] = {}

    def put(self, alerts: Iterable[Alert], now: float) -> None:
        """Merge alerts by fingerprint; a resolved alert that was notified makes its group urgent."""
        for alert in alerts:
            known = self.alerts.get(alert.fp)
            if known is not None and known.resolved(now) and alert.resolved(now):
                continue  # already resolved here: a re-sent resolved alert changes nothing
            if known is not None and not known.resolved(now) and not alert.resolved(now):
                alert = Alert(alert.labels, alert.annotations, known.starts_at, alert.ends_at, alert.generator_url)
            if known is None and alert.resolved(now):
                continue  # resolved before we ever saw it fire
            self.alerts[alert.fp] = alert
            labels = self.route.group_labels(alert.labels)
            key = group_key("{}", labels)
            group = self.groups.get(key)
            if group is None:
                group = self.groups[key] = Group(key, labels, now, now + self.route.group_wait)
            group.fps.add(alert.fp)
            if alert.resolved(now) and alert.fp in group.sent_firing:
                group.urgent = True

    def muted(self, alert: Alert, now: float) -> str | None:
        """Why `alert` is muted (a silence or an inhibition), or None."""
        silenced = self.silences.muting(alert.labels, now)
        if silenced:
            return f"silenced by {silenced[0]}"
        for rule in self.inhibit_rules:
            for source in self.alerts.values():
                if source.fp != alert.fp and not source.resolved(now) and rule.inhibits(source.labels, alert.labels):
                    return f"inhibited by {source.name} ({source.fp})"
        return None

    def next_flush(self) -> float | None:
        """The earliest time a group is due (None when there is no group)."""
        return min((g.next_flush for g in self.groups.values()), default=None)

    def flush(self, now: float) -> FlushResult:
        """The notifications due at `now`, one per group at most, each with the reason it goes out."""
        notes: list[Notification] = []
        reasons: list[str] = []
        for key, group in list(self.groups.items()):
            if now < group.next_flush and not group.urgent:
                continue
            note, reason = self._flush_group(group, now)
            reasons.append(f"{key}: {reason}")
            if note is not None:
                notes.append(note)
            if not group.fps:
                del self.groups[key]
        return FlushResult(notes, reasons)

    def _flush_group(self, group: Group, now: float) -> tuple[Notification | None, str]:
        urgent, group.urgent = group.urgent, False
        group.next_flush = now + self.route.group_interval
        firing: list[Alert] = []
        resolved: list[Alert] = []
        muted = 0
        for fp in sorted(group.fps):
            alert = self.alerts[fp]
            if alert.resolved(now):
                if fp in group.sent_firing:
                    resolved.append(alert)
            elif self.muted(alert, now) is None:
                firing.append(alert)
            else:
                muted += 1
        firing_fps = {a.fp for a in firing}
        new = firing_fps - group.sent_firing
        gone = group.sent_firing - firing_fps
        repeat_due = (group.last_sent_at is not None and firing
                      and now - group.last_sent_at >= self.route.repeat_interval)
        for fp in [fp for fp in group.fps if self.alerts[fp].resolved(now)]:
            group.fps.discard(fp)
            del self.alerts[fp]
        if not (new or gone or repeat_due):
            return None, f"nothing new ({len(firing)} firing, {muted} muted)"
        alerts = firing + resolved
        if not alerts:  # every alert muted: Alertmanager's pipeline stops on an empty list and logs nothing
            return None, f"nothing to send ({muted} muted)"
        body = webhook_body(self.route.receiver, alerts, group.labels, group.key, self.external_url, now,
                            self.route.max_alerts)
        group.sent_firing, group.last_sent_at = firing_fps, now
        if new:
            why = f"{len(new)} new firing"
        elif gone:
            why = f"{len(gone)} resolved or muted" + (" (sent at once)" if urgent else "")
        else:
            why = f"repeat after {self.route.repeat_interval:g}s"
        reason = f"notify {self.route.receiver}: {why}; {len(firing)} firing, {len(resolved)} resolved, {muted} muted"
        return Notification(self.route.receiver, group.key, body, reason, now), reason
