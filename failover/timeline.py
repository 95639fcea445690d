"""The timeline of one drill: marks with reasons, and the client-side points derived from the writer's log."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from failover.types import Mark, Outcome
from failover.writer import Attempt


@dataclass(frozen=True)
class Event:
    """A point of the timeline: what happened, when (monotonic seconds), and why."""

    mark: str
    at: float
    reason: str


@dataclass
class Timeline:
    """Marks recorded by the fault, the engine and the drill; thread-safe, first mark of a name wins."""

    events: list[Event] = field(default_factory=list)
    listener: Callable[[Event], None] | None = field(default=None, repr=False)  # told of each mark as it happens
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def mark(self, mark: Mark | str, reason: str, at: float | None = None) -> Event:
        event = Event(str(mark), time.monotonic() if at is None else at, reason)
        with self._lock:
            self.events.append(event)
        if self.listener is not None:
            self.listener(event)
        return event

    def at(self, mark: Mark | str) -> float | None:
        with self._lock:
            return next((e.at for e in self.events if e.mark == str(mark)), None)

    def since_fault(self) -> dict[str, float]:
        """Seconds from the fault to the first occurrence of each mark."""
        start = self.at(Mark.FAULT)
        if start is None:
            return {}
        seen: dict[str, float] = {}
        for event in sorted(self.events, key=lambda e: e.at):
            seen.setdefault(event.mark, round(event.at - start, 3))
        return seen


def client_marks(
    timeline: Timeline, attempts: Sequence[Attempt], new_primary_port: int, clients: int
) -> None:
    """Mark first and last client back and the business RTO from acks by the new primary after the fault.

    Acknowledgements from the old primary after the fault do not count, nor any before fencing (the
    orphaned backends of a killed postmaster): the ERP is back only when the node that keeps the data
    accepts new orders.
    """
    fault = timeline.at(Mark.FAULT)
    if fault is None:
        return
    # Backends of a killed postmaster still answer for a moment: only acks after fencing count.
    fault = max(fault, timeline.at(Mark.FENCING) or fault)
    first_back: dict[int, float] = {}
    for attempt in sorted(attempts, key=lambda a: a.ended):
        # port None: an API answer, which does not say which node served it; after fencing only the new
        # primary can have (the old one's processes are gone).
        if attempt.outcome is Outcome.ACKED and attempt.port in (new_primary_port, None) and attempt.ended >= fault:
            first_back.setdefault(attempt.client, attempt.ended)
    if not first_back:
        return
    first = min(first_back.values())
    timeline.mark(Mark.FIRST_CLIENT_BACK, f"client {min(first_back, key=first_back.__getitem__)} acked "
                  f"by port {new_primary_port}", first)
    timeline.mark(Mark.BUSINESS_RTO, "the ERP's writer has an order acknowledged by the new primary", first)
    if len(first_back) == clients:
        last_client = max(first_back, key=first_back.__getitem__)
        timeline.mark(Mark.LAST_CLIENT_BACK, f"client {last_client} was the last of {clients} back",
                      first_back[last_client])


def missing_marks(timeline: Timeline, expected: Sequence[Mark]) -> list[str]:
    seen = {e.mark for e in timeline.events}
    return [str(m) for m in expected if str(m) not in seen]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def summarize(values: Sequence[float]) -> dict[str, float | None]:
    if not values:
        return {"n": 0, "min": None, "p50": None, "p95": None, "max": None}
    return {
        "n": len(values),
        "min": round(min(values), 3),
        "p50": round(statistics.median(values), 3),
        "p95": round(percentile(values, 95) or 0.0, 3),
        "max": round(max(values), 3),
    }
