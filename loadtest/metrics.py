"""Locust's final statistics as data: entries by name and kind, merged per selector, observed by metric name.

Three kinds of entry share Locust's request statistics: HTTP requests (method `GET`, `POST`, ...),
content checks (method `CHECK`, failed when the response content was wrong, response time 0) and whole
business tasks (method `TASK`, an order-to-cash chain from order to receipt). A selector names an
endpoint (`POST /sales-orders`, or `/sales-orders` for every method), a task (`order_to_cash`), or
`global`: every HTTP request of the run.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CHECK = "CHECK"
TASK = "TASK"
GLOBAL = "global"
PERCENTILES = (50.0, 90.0, 95.0, 99.0, 99.9)


@dataclass(frozen=True)
class Entry:
    """One Locust statistics entry: a method (or CHECK/TASK) and a name, with its response-time histogram."""

    method: str
    name: str
    requests: int
    failures: int
    total_ms: float
    max_ms: float
    start: float
    last: float
    response_times: Mapping[int, int] = field(default_factory=dict)
    timeless: int = 0  # requests logged without a response time (checks)

    @property
    def key(self) -> str:
        return f"{self.method} {self.name}"

    @property
    def is_http(self) -> bool:
        return self.method not in (CHECK, TASK)

    def matches(self, selector: str) -> bool:
        """Whether `selector` names this entry: its key, its name, or its name without a method prefix."""
        bare = self.name.split(" ", 1)[1] if " " in self.name else self.name
        return selector in (self.key, self.name, bare)


def entry_from_locust(raw: Mapping[str, Any]) -> Entry:
    """An entry from one item of Locust's `--json-file` list."""
    return Entry(str(raw["method"] or ""), str(raw["name"]), int(raw["num_requests"]), int(raw["num_failures"]),
                 float(raw["total_response_time"]), float(raw["max_response_time"] or 0),
                 float(raw["start_time"] or 0), float(raw["last_request_timestamp"] or raw["start_time"] or 0),
                 {int(float(k)): int(v) for k, v in raw.get("response_times", {}).items()},
                 int(raw.get("num_none_requests") or 0))


def percentile(response_times: Mapping[int, int], count: int, percent: float) -> float:
    """The response time at `percent` (0-100) of a histogram, as Locust computes it (nearest rank)."""
    if count == 0:
        return 0.0
    wanted = count - int(count * percent / 100.0)
    seen = 0
    for response_time in sorted(response_times, reverse=True):
        seen += response_times[response_time]
        if seen >= wanted:
            return float(response_time)
    return 0.0


@dataclass(frozen=True)
class Stats:
    """Every entry of one run plus the run's duration (the denominator of every rate per second)."""

    entries: tuple[Entry, ...]
    duration_s: float

    @classmethod
    def from_entries(cls, entries: Iterable[Entry]) -> Stats:
        items = tuple(entries)
        used = [e for e in items if e.requests or e.failures]
        start = min((e.start for e in used if e.start), default=0.0)
        last = max((e.last for e in used), default=0.0)
        return cls(items, max(last - start, 0.0))

    @classmethod
    def load(cls, path: Path) -> Stats:
        """Read Locust's `--json-file` output."""
        return cls.from_entries(entry_from_locust(raw) for raw in json.loads(path.read_text()))

    @classmethod
    def load_live(cls, path: Path) -> tuple[int, Stats]:
        """The user count and statistics so far, from the file the master rewrites every second."""
        data = json.loads(path.read_text())
        return int(data.get("users") or 0), cls.from_entries(entry_from_locust(raw) for raw in data["entries"])

    def select(self, selector: str) -> list[Entry]:
        """Requests and tasks that `selector` names (every HTTP request for `global`)."""
        if selector == GLOBAL:
            return [e for e in self.entries if e.is_http]
        return [e for e in self.entries if e.method != CHECK and e.matches(selector)]

    def checks(self, selector: str) -> list[Entry]:
        """Content checks that `selector` names (every check for `global`)."""
        return [e for e in self.entries if e.method == CHECK and (selector == GLOBAL or e.matches(selector))]

    def requests(self) -> int:
        return sum(e.requests for e in self.entries if e.is_http)

    def failures(self) -> int:
        return sum(e.failures for e in self.entries if e.is_http)

    def check_failures(self) -> int:
        return sum(e.failures for e in self.entries if e.method == CHECK)

    def observe(self, selector: str, metric: str) -> float | None:
        """The value of `metric` (`p(95)`, `avg`, `med`, `max`, `rps`, `count`, `rate(errors)`,
        `rate(checks)`) over what `selector` names; None when there is nothing to measure."""
        if metric == "rate(checks)":
            checks = self.checks(selector)
            total = sum(e.requests for e in checks)
            return None if total == 0 else 1.0 - sum(e.failures for e in checks) / total
        chosen = self.select(selector)
        count = sum(e.requests for e in chosen)
        if metric == "count":
            return float(count)
        if metric == "rps":
            return None if self.duration_s <= 0 else count / self.duration_s
        if count == 0:
            return None
        if metric == "rate(errors)":
            return sum(e.failures for e in chosen) / count
        timed = sum(e.requests - e.timeless for e in chosen)
        if timed == 0:
            return None
        if metric == "avg":
            return sum(e.total_ms for e in chosen) / timed
        if metric == "max":
            return max(e.max_ms for e in chosen)
        merged: dict[int, int] = {}
        for e in chosen:
            for rt, n in e.response_times.items():
                merged[rt] = merged.get(rt, 0) + n
        return percentile(merged, timed, percent_of(metric))

    def summary(self, selector: str) -> dict[str, float | None]:
        """The metrics a baseline keeps for `selector`."""
        names = [f"p({p:g})" for p in PERCENTILES] + ["avg", "max", "rps", "count", "rate(errors)", "rate(checks)"]
        return {name: _rounded(self.observe(selector, name)) for name in names}

    def summaries(self, extra: Iterable[str] = ()) -> dict[str, dict[str, float | None]]:
        """Summaries for `global`, every entry's key and every extra selector (those of the SLO)."""
        selectors = [GLOBAL, *sorted({e.key for e in self.entries if e.method != CHECK}), *extra]
        return {s: self.summary(s) for s in dict.fromkeys(selectors)}


def percent_of(metric: str) -> float:
    """50 for `med`, 95 for `p(95)`; ValueError for any other metric."""
    if metric == "med":
        return 50.0
    if metric.startswith("p(") and metric.endswith(")"):
        value = float(metric[2:-1])
        if 0 < value <= 100:
            return value
    raise ValueError(f"unknown metric {metric!r}")


def _rounded(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 6)
