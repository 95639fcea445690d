"""The unit of work: one database transaction, the domain events it raised, the postings it owes.

Events are handled inside the transaction before commit (an automation that fails fails the write).
Journal entries are queued and written last, so the gap-free number's lock is held for as short a time
as possible: hot sequence rows are the bottleneck of concurrent posting.

`before_commit` callbacks run after the events and before the journal is numbered: a caller uses them
to read back what the service wrote (the API's response) or to record, in the same transaction, that a
request was applied (the API's idempotency keys, through `AMBIENT_BEFORE_COMMIT`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from erpcore.domain.events import Event
from erpcore.domain.postings import PostingLine

if TYPE_CHECKING:
    from erpcore.services.bootstrap import Erp


CommitHook = Callable[["UnitOfWork"], None]

# Hooks the calling context adds to every unit of work it opens: set by the API's idempotency middleware
# around a request, seen by the route's worker thread because the threadpool copies the context.
AMBIENT_BEFORE_COMMIT: ContextVar[tuple[CommitHook, ...]] = ContextVar("ambient_before_commit", default=())


def _ambient_hooks() -> list[CommitHook]:
    return list(AMBIENT_BEFORE_COMMIT.get())


@dataclass
class PendingEntry:
    entry_date: dt.date
    source_type: str
    source_id: int
    event: str
    description: str
    lines: list[PostingLine]
    reversal_of_id: int | None = None


@dataclass
class UnitOfWork:
    erp: Erp
    actor: str = "system"
    events: list[Event] = field(default_factory=list)
    journal: list[PendingEntry] = field(default_factory=list)
    before_commit: list[CommitHook] = field(default_factory=_ambient_hooks)
    created: dict[str, int] = field(default_factory=dict)  # ids of the documents written, by type
    documents: dict[str, dict[str, Any]] = field(default_factory=dict)  # their rows, as the database returned them
    memo: dict[str, object] = field(default_factory=dict)  # what handlers read once per transaction
    _session: Session | None = None
    _conn: Connection | None = None
    _open: bool = False

    @property
    def conn(self) -> Connection:
        """The transaction's connection, checked out and begun on first use; Core statements run here."""
        if not self._open:
            raise RuntimeError("unit of work used outside `with`")
        if self._conn is None:
            self._conn = self.erp.engine.connect()
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

    def __enter__(self) -> UnitOfWork:
        self._open = True
        self.events.clear()
        self.journal.clear()
        self.created.clear()
        self.documents.clear()
        self.memo.clear()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        conn, session = self._conn, self._session
        self._open, self._conn, self._session = False, None, None
        try:
            if session is not None:
                session.close()
        finally:
            if conn is not None:
                conn.close()  # rolls back what was not committed: nothing half-written stays

    def wrote(self, doc_type: str, head: Mapping[Any, Any], lines: Sequence[Mapping[Any, Any]] | None = None) -> None:
        """Note a document written in full (header, and lines in id order), so callers need not read it back."""
        self.created[doc_type] = int(head["id"])
        doc = dict(head)
        if lines is not None:
            doc["lines"] = sorted((dict(line) for line in lines), key=lambda line: int(line["id"]))
        self.documents[doc_type] = doc

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def post(self, entry: PendingEntry) -> None:
        self.journal.append(entry)

    def commit(self) -> None:
        """Handle every event (handlers may raise more), run the hooks, write the queued journal, commit."""
        from erpcore.services import ledger

        handle: Callable[[Event, UnitOfWork], None] = self.erp.bus.handle
        while self.events:
            handle(self.events.pop(0), self)
        for hook in self.before_commit:
            hook(self)
        ledger.flush_journal(self)
        if self._session is not None:
            self._session.flush()
        self.conn.commit()
