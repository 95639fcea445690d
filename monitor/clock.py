"""Injectable clocks: the real one for `erpops monitor run`, a manual one so tests never sleep."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the epoch."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.t = start

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t


def rfc3339(t: float) -> str:
    """Alertmanager's timestamp form: UTC, milliseconds, `Z`."""
    stamp = dt.datetime.fromtimestamp(t, dt.UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


ZERO_TIME = "0001-01-01T00:00:00Z"
"""Go's zero time, which Alertmanager sends as `endsAt` of a firing alert."""


def parse_duration(text: str | float) -> float:
    """Prometheus durations (`90s`, `5m`, `1h30m`, `1d`) or plain seconds, to seconds."""
    if isinstance(text, int | float):
        return float(text)
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
    total, number, i = 0.0, "", 0
    text = text.strip()
    if not text:
        raise ValueError("empty duration")
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            number += ch
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else ch
        if unit not in units or not number:
            raise ValueError(f"bad duration {text!r}")
        total += float(number) * units[unit]
        number, i = "", i + len(unit)
    if number:
        if total:
            raise ValueError(f"bad duration {text!r}")
        return float(number)
    return total


def format_duration(seconds: float) -> str:
    """Seconds as a Prometheus duration (`0s`, `90s`, `5m`, `1h`)."""
    if seconds == 0:
        return "0s"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{int(seconds * 1000)}ms"
