"""The one interface a drill drives an HA engine through, and the data it returns."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass

from failover.timeline import Timeline
from failover.types import Fault, Role


@dataclass(frozen=True)
class Member:
    """One member of the topology as the engine sees it now."""

    name: str
    port: int
    role: Role
    pid: int | None = None
    timeline: int | None = None
    sync_state: str | None = None  # on a standby: sync | async | potential | None when not streaming
    lag_bytes: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Decision:
    """What the engine decided at one tick, and the sentence that says why."""

    action: str
    reason: str


@dataclass(frozen=True)
class RejoinResult:
    """Whether the old primary is back as a synchronous standby; `divergence` names a detected one."""

    ok: bool
    reason: str
    divergence: str | None = None
    rewind_output: str = ""


class HaEngine(ABC):
    """An HA engine as a drill sees it.

    Contract, for every engine (real or fake):
    - `members()` never raises for a member that is down; it reports it with role `down` and why.
    - `client_conninfo()` is a libpq string that reaches whichever member accepts writes.
    - `inject(fault, timeline)` applies the fault to the current primary and marks `fault`.
    - `recover(fault, timeline, timeout)` returns the new primary's name once it accepts writes, having
      marked detection, decision, fencing, promotion and first_write_accepted, each with its reason;
      it raises `FailoverFailed` when no member accepts writes within `timeout`.
    - `split_brain(name)` returns None when the fenced old primary accepts no write, else what it accepted.
    - `committed(run)` returns the (client, seq) keys of the writer's rows on the current primary.
    - `rejoin(name, timeline, timeout)` brings the old primary back as a synchronous standby (rewinding
      it), marking old_primary_rewound and back_in_sync; it returns why it did or did not succeed.
    - `heal(timeline)` undoes a network fault (the isolation) if one is in force, marking
      `isolation_lifted`; the drill calls it in a finally block, and `close()` calls it too.
    - `close()` stops every process the engine started, by PID, and is safe to call twice.
    """

    name: str

    @abstractmethod
    def members(self) -> list[Member]: ...

    def primary(self) -> Member | None:
        return next((m for m in self.members() if m.role is Role.PRIMARY), None)

    @abstractmethod
    def client_conninfo(self) -> str: ...

    @abstractmethod
    def inject(self, fault: Fault, timeline: Timeline) -> str:
        """Apply `fault` to the primary; returns the old primary's name."""

    @abstractmethod
    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str: ...

    @abstractmethod
    def split_brain(self, old: str) -> str | None: ...

    @abstractmethod
    def committed(self, run: str) -> set[tuple[int, int]]: ...

    @abstractmethod
    def rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult: ...

    def heal(self, timeline: Timeline) -> None:  # noqa: B027 - an optional hook: most engines have no fault to undo
        """Undo a network fault in force (engines that cannot isolate have none)."""

    @abstractmethod
    def close(self) -> None: ...
