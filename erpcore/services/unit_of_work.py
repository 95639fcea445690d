"""The unit of work: one database transaction, the domain events it raised, the postings it owes.

It knows its connection, what it needs from the ERP around it (`Resources`, a small Protocol) and the
pre-commit steps it was handed, nothing above it. `commit()` runs those steps in order, then commits:
bootstrap hands in "handle the events" first (automation fails the write when it fails) and "number and
write the journal" last (the gap-free number's lock is held for as short a time as possible); a caller may
add steps between them (the API records an applied Idempotency-Key in the same transaction).

A unit of work is entered once: entering one while another is open in the same thread raises
`NestedUnitOfWork`. In-transaction steps (`erpcore.services.steps`) take the open one and never open their own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from decimal import Decimal
from types import TracebackType
from typing import Any, Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session

from erpcore import audit
from erpcore.access import SYSTEM, Actor, Call
from erpcore.crypto import Keyring
from erpcore.domain.accounts import Role
from erpcore.domain.audit import Entry
from erpcore.domain.dates import DateWindow
from erpcore.domain.events import Event
from erpcore.domain.matching import Tolerances
from erpcore.domain.postings import PendingEntry

Step = Callable[["UnitOfWork"], None]
Key = tuple[int, int]  # (item_id, warehouse_id)


class NumberSource(Protocol):
    def take(self, doc_type: str, year: int) -> int: ...


class Resources(Protocol):
    """What a unit of work and the steps run in it need from the ERP around them."""

    @property
    def engine(self) -> Engine: ...

    @property
    def tolerances(self) -> Tolerances: ...

    @property
    def number_blocks(self) -> NumberSource: ...

    @property
    def dates(self) -> DateWindow: ...

    @property
    def max_discount_percent(self) -> Decimal: ...

    def account_ids(self, conn: Connection) -> dict[Role, int]: ...

    @property
    def keyring(self) -> Keyring: ...


class NestedUnitOfWork(RuntimeError):
    """A unit of work was entered while another was open: the inner commit would commit the outer's writes."""


@dataclass(frozen=True)
class StockLevel:
    """A balance as this transaction left it, with its item's safety stock and reorder quantity."""

    item_id: int
    warehouse_id: int
    on_hand: Decimal
    reserved: Decimal
    safety_stock: Decimal
    reorder_qty: Decimal


# Guard only (never data): which unit of work is open in this thread, to refuse a second one inside it.
_OPEN: ContextVar[UnitOfWork | None] = ContextVar("erpcore_open_unit_of_work", default=None)


@dataclass(eq=False)
class UnitOfWork:
    resources: Resources
    steps: Sequence[Step] = ()
    actor: Actor = SYSTEM
    events: list[Event] = field(default_factory=list)
    journal: list[PendingEntry] = field(default_factory=list)
    # what the stock step learned while locking and writing balances, read by the safety-stock handler
    safety: dict[Key, tuple[Decimal, Decimal]] = field(default_factory=dict)
    levels: dict[Key, StockLevel] = field(default_factory=dict)
    # the audit trail's entries for this transaction, and the guarded service call it runs
    audits: list[Entry] = field(default_factory=list)
    call: Call | None = None
    _session: Session | None = None
    _conn: Connection | None = None
    _open: bool = False
    _token: Token[UnitOfWork | None] | None = None

    @property
    def conn(self) -> Connection:
        """The transaction's connection, checked out and begun on first use; Core statements run here."""
        if not self._open:
            raise RuntimeError("unit of work used outside `with`")
        if self._conn is None:
            self._conn = self.resources.engine.connect()
            self._conn.begin()
        return self._conn

    @property
    def session(self) -> Session:
        """An ORM session on the same connection and transaction, made only for services that read entities.

        Most postings never need one: a Session per request (its transaction, connection bookkeeping and
        commit) cost about a tenth of a posting request's CPU when every unit of work opened one.
        """
        if self._session is None:
            # joins the connection's transaction: it never commits or rolls back anything itself
            self._session = Session(bind=self.conn, autoflush=False, expire_on_commit=False)
        return self._session

    @property
    def is_open(self) -> bool:
        return self._open

    def __enter__(self) -> UnitOfWork:
        if self._open or _OPEN.get() is not None:
            raise NestedUnitOfWork(
                "a unit of work is already open here: an in-transaction step takes the open unit of work "
                "instead of opening (or re-entering) one")
        self._open = True
        self._token = _OPEN.set(self)
        self.events.clear()
        self.journal.clear()
        self.safety.clear()
        self.levels.clear()
        self.audits.clear()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, session = self._conn, self._session
        self._open, self._conn, self._session, self.call = False, None, None, None
        if self._token is not None:
            _OPEN.reset(self._token)
            self._token = None
        try:
            if session is not None:
                session.close()
        finally:
            if conn is not None:
                conn.close()  # rolls back what was not committed: nothing half-written stays

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def post(self, entry: PendingEntry) -> None:
        self.journal.append(entry)

    def audit(self, entity: str, entity_id: int | None = None, ref: str | None = None,
              before: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None,
              action: str | None = None) -> None:
        """Record, for the audit trail, what this transaction does to one thing (default action: the guarded
        service's permission)."""
        done = action or (self.call.permission if self.call is not None else "write")
        self.audits.append(Entry(done, entity, entity_id, ref, before, after))

    def record(self, entity: str, row: Mapping[str, Any], before: Mapping[str, Any] | None = None) -> None:
        """Record a document as written (`row`, its lines left out) and, for a change, its values before."""
        ref = row.get("number") or row.get("code") or row.get("sku")
        after = {k: v for k, v in row.items() if not isinstance(v, (list, dict))}
        self.audit(entity, row.get("id"), None if ref is None else str(ref), before, after)

    def acting(self, call: Call) -> None:
        """Told by `access.guarded`: the service call this unit of work runs."""
        self.call = call

    def refused(self, call: Call) -> None:
        """Told by `access.guarded`: record the denied attempt in a short transaction of its own."""
        audit.record(self.resources.engine, self.actor.name, self.actor.role,
                     [call.entry(outcome="denied")])

    def commit(self) -> None:
        """Run the pre-commit steps in order (events, caller's steps, journal), then commit."""
        for step in self.steps:
            step(self)
        if self._session is not None:
            self._session.flush()
        self.conn.commit()

