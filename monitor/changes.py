"""What changed in one tick, for the person watching `erpops monitor run`: an alert starts or stops firing,
a rule breaks or recovers, a source fails or recovers, a notification goes out. Steady states say nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from monitor.engine import RuleEvaluation
from monitor.types import AlertState, Labels


class ChangeKind(StrEnum):
    FIRING = "firing"
    RESOLVED = "resolved"
    RULE_BROKEN = "rule-broken"
    RULE_RECOVERED = "rule-recovered"
    SOURCE_FAILED = "source-failed"
    SOURCE_RECOVERED = "source-recovered"
    SENT = "sent"


@dataclass(frozen=True)
class Change:
    """One change: its kind, what it is about (an alert, rule or source), the alert's labels, and why."""

    at: float
    kind: ChangeKind
    subject: str
    reason: str
    labels: Labels = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"at": self.at, "kind": self.kind.value, "subject": self.subject, "labels": self.labels,
                "reason": self.reason}


def alert_changes(evaluations: Iterable[RuleEvaluation], at: float) -> list[Change]:
    """Instances that started or stopped firing in these evaluations."""
    out: list[Change] = []
    for ev in evaluations:
        for inst in ev.changes:
            labels = {k: v for k, v in sorted(inst.labels.items()) if k != "alertname"}
            if inst.state == AlertState.FIRING:
                out.append(Change(at, ChangeKind.FIRING, ev.rule, inst.reason, labels))
            elif inst.previous == AlertState.FIRING:
                out.append(Change(at, ChangeKind.RESOLVED, ev.rule, inst.reason, labels))
    return out


@dataclass
class ChangeTracker:
    """Remembers the last rule health and failing sources, so a steady state is reported once."""

    alerting_no_data: frozenset[str] = frozenset()
    broken: dict[str, str] = field(default_factory=dict)
    failing: dict[str, str] = field(default_factory=dict)

    def rules(self, evaluations: Iterable[RuleEvaluation], at: float) -> list[Change]:
        """Rules that began or stopped failing (error, or no data where that alerts)."""
        out: list[Change] = []
        for ev in evaluations:
            bad = ev.state == AlertState.ERROR or (
                ev.state == AlertState.NODATA and ev.rule in self.alerting_no_data)
            if bad and ev.rule not in self.broken:
                self.broken[ev.rule] = ev.reason
                out.append(Change(at, ChangeKind.RULE_BROKEN, ev.rule, ev.reason))
            elif not bad and ev.rule in self.broken:
                del self.broken[ev.rule]
                out.append(Change(at, ChangeKind.RULE_RECOVERED, ev.rule, ev.reason))
        return out

    def sources(self, errors: dict[str, str], at: float) -> list[Change]:
        """Sources that began or stopped failing (keyed by source, so a changing message is not news)."""
        out = [Change(at, ChangeKind.SOURCE_FAILED, name, why) for name, why in errors.items()
               if name not in self.failing]
        out += [Change(at, ChangeKind.SOURCE_RECOVERED, name, "answers again") for name in self.failing
                if name not in errors]
        self.failing = dict(errors)
        return out
