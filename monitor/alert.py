"""An alert as it travels from the rule engine to the notifier, and Alertmanager's fingerprint of it."""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor.types import Labels

_FNV_OFFSET = 14695981039346656037
_FNV_PRIME = 1099511628211
_SEP = 0xFF


def fingerprint(labels: Labels) -> str:
    """Alertmanager's label fingerprint: FNV-1a 64 over sorted names and values, 0xff-separated."""
    h = _FNV_OFFSET
    for name in sorted(labels):
        for part in (name, labels[name]):
            for byte in part.encode():
                h = ((h ^ byte) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
            h = ((h ^ _SEP) * _FNV_PRIME) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


@dataclass(frozen=True)
class Alert:
    """One alert instance: firing while `ends_at` is None or in the future, resolved after it."""

    labels: Labels
    annotations: Labels
    starts_at: float
    ends_at: float | None = None
    generator_url: str = ""
    fp: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not self.fp:
            object.__setattr__(self, "fp", fingerprint(self.labels))

    @property
    def name(self) -> str:
        return self.labels.get("alertname", "")

    def resolved(self, now: float) -> bool:
        return self.ends_at is not None and self.ends_at <= now

    def status(self, now: float) -> str:
        return "resolved" if self.resolved(now) else "firing"
