"""A small in-memory series store with Prometheus' staleness: what the embedded rule engine queries."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from monitor.types import LabelKey, Labels, label_key

STALE = math.nan
LOOKBACK = 300.0
"""An instant selector sees a sample at most this old (Prometheus' lookback delta)."""


@dataclass(frozen=True)
class Sample:
    labels: Labels
    value: float


class SeriesStore:
    """Series keyed by their label set (with `__name__`), each a time-ordered deque of (t, value)."""

    def __init__(self, retention: float = 6 * 3600, by_name: dict[str, float] | None = None) -> None:
        """`retention` for every series, unless `by_name` names a metric (then: its range plus LOOKBACK)."""
        self.retention = retention
        self.retention_by_name = {k: v + LOOKBACK for k, v in (by_name or {}).items()}
        self.series: dict[LabelKey, deque[tuple[float, float]]] = {}
        self.by_name: dict[str, set[LabelKey]] = {}

    def ingest(self, samples: Iterable[Sample], t: float, source: str = "") -> int:
        """Append one scrape at time `t`; series of `source` missing from it get a stale marker."""
        seen: set[LabelKey] = set()
        for sample in samples:
            labels = {**sample.labels, "__source__": source} if source else sample.labels
            key = label_key(labels)
            seen.add(key)
            self._append(key, labels["__name__"], t, float(sample.value))
        for key, points in self.series.items():
            fresh = key in seen or dict(key).get("__source__", "") != source
            if not fresh and points and not math.isnan(points[-1][1]):
                points.append((t, STALE))
        self._prune(t)
        return len(seen)

    def add(self, name: str, labels: Labels, t: float, value: float) -> None:
        """Append one sample (tests and event-fed gauges)."""
        full = {"__name__": name, **labels}
        self._append(label_key(full), name, t, value)

    def _append(self, key: LabelKey, name: str, t: float, value: float) -> None:
        points = self.series.get(key)
        if points is None:
            points = self.series[key] = deque()
            self.by_name.setdefault(name, set()).add(key)
        if points and points[-1][0] >= t:
            points[-1] = (t, value)
        else:
            points.append((t, value))

    def _prune(self, t: float) -> None:
        empty: list[LabelKey] = []
        for key, points in self.series.items():
            horizon = t - self._retention(key)
            while points and points[0][0] < horizon:
                points.popleft()
            if not points:
                empty.append(key)
        for key in empty:
            del self.series[key]
            self.by_name[dict(key)["__name__"]].discard(key)

    def _retention(self, key: LabelKey) -> float:
        if not self.retention_by_name:
            return self.retention
        return self.retention_by_name.get(dict(key).get("__name__", ""), LOOKBACK)

    def candidates(self, name: str | None) -> Iterator[LabelKey]:
        if name is not None:
            yield from self.by_name.get(name, ())
        else:
            yield from self.series

    def latest(self, key: LabelKey, t: float) -> float | None:
        """The value an instant selector sees at `t`, or None when absent or stale."""
        points = self.series[key]
        for when, value in reversed(points):
            if when > t:
                continue
            if math.isnan(value) or t - when > LOOKBACK:
                return None
            return value
        return None

    def window(self, key: LabelKey, start: float, end: float) -> list[tuple[float, float]]:
        return [(w, v) for w, v in self.series[key] if start < w <= end and not math.isnan(v)]
