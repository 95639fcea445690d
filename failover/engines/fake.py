"""An in-memory HA engine and load for unit tests: it plays the runbook on plain data, no server at all."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from failover.engines.base import HaEngine, Member, RejoinResult
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, Mark, Outcome, Role
from failover.writer import Attempt

FAKE_PORTS = {"a": 1001, "b": 1002}


@dataclass
class FakeCluster:
    """Two members and the rows each one holds; tests flip the knobs to provoke every failure."""

    primary: str = "a"
    rows: set[tuple[int, int]] = field(default_factory=set)
    lose: int = 0  # acknowledged rows the new primary will not have
    rejoin_ok: bool = True
    divergence: str | None = None
    split_brain: str | None = None
    promote: bool = True


class FakeEngine(HaEngine):
    """Failover in memory: every mark at a fixed small offset, results from the `FakeCluster` knobs."""

    name = "fake"

    def __init__(self, cluster: FakeCluster | None = None) -> None:
        self.cluster = cluster or FakeCluster()
        self.closed = False

    def members(self) -> list[Member]:
        return [Member(name, port, Role.PRIMARY if name == self.cluster.primary else Role.STANDBY,
                       reason="in memory") for name, port in FAKE_PORTS.items()]

    def client_conninfo(self) -> str:
        return "fake://" + self.cluster.primary

    def inject(self, fault: Fault, timeline: Timeline) -> str:
        timeline.mark(Mark.FAULT, f"{fault} of {self.cluster.primary} (in memory)")
        return self.cluster.primary

    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str:
        if not self.cluster.promote:
            raise FailoverFailed("no member accepts writes (fake)")
        start = timeline.at(Mark.FAULT) or time.monotonic()
        for offset, mark in enumerate((Mark.DETECTION, Mark.DECISION, Mark.FENCING, Mark.PROMOTION,
                                       Mark.FIRST_WRITE), start=1):
            timeline.mark(mark, f"fake {mark}", start + offset * 0.01)
        self.cluster.primary = next(n for n in FAKE_PORTS if n != old)
        return self.cluster.primary

    def split_brain(self, old: str) -> str | None:
        return self.cluster.split_brain

    def committed(self, run: str) -> set[tuple[int, int]]:
        kept = sorted(self.cluster.rows)
        return set(kept[self.cluster.lose:])

    def rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult:
        if not self.cluster.rejoin_ok:
            return RejoinResult(False, f"{old} does not stream (fake)", self.cluster.divergence)
        timeline.mark(Mark.REWOUND, f"fake rewind of {old}")
        timeline.mark(Mark.BACK_IN_SYNC, f"{old} is the fake sync standby")
        if self.cluster.divergence:
            return RejoinResult(False, self.cluster.divergence, self.cluster.divergence)
        return RejoinResult(True, f"{old} back in sync (fake)")

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeLoad:
    """A load that acks `per_client` rows per client on the old primary, then on the new one."""

    cluster: FakeCluster
    clients: int
    per_client: int = 3
    attempts: list[Attempt] = field(default_factory=list)

    def prepare(self) -> None:
        return None

    def start(self) -> None:
        return None

    def snapshot(self) -> list[Attempt]:
        return self._make()

    def stop(self, timeout: float = 10) -> list[Attempt]:
        self.attempts = self._make()
        self.cluster.rows |= {(a.client, a.seq) for a in self.attempts if a.outcome is Outcome.ACKED}
        return self.attempts

    def _make(self) -> list[Attempt]:
        now = time.monotonic() + 1.0  # after the fault: acks by whoever is primary now
        port = FAKE_PORTS[self.cluster.primary]
        found = [Attempt(c, s, now - 0.01, now + 0.001 * s, Outcome.ACKED, port)
                 for c in range(self.clients) for s in range(1, self.per_client + 1)]
        found.append(Attempt(0, self.per_client + 1, now, now, Outcome.IN_DOUBT, None, "reset"))
        return found
