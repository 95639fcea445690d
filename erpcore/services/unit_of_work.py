"""The unit of work: one database transaction, the domain events it raised, the postings it owes.

Events are handled inside the transaction before commit (an automation that fails fails the write).
Journal entries are queued and written last, so the gap-free number's lock is held for as short a time
as possible: hot sequence rows are the bottleneck of concurrent posting.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from erpcore.domain.events import Event
from erpcore.domain.postings import PostingLine

if TYPE_CHECKING:
    from erpcore.services.bootstrap import Erp


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
    _session: Session | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("unit of work used outside `with`")
        return self._session

    def __enter__(self) -> UnitOfWork:
        self._session = self.erp.session_factory()
        self.events.clear()
        self.journal.clear()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        try:
            self.session.rollback()  # a no-op after commit; otherwise nothing half-written stays
        finally:
            self.session.close()
            self._session = None

    def emit(self, event: Event) -> None:
        self.events.append(event)

    def post(self, entry: PendingEntry) -> None:
        self.journal.append(entry)

    def commit(self) -> None:
        """Handle every event (handlers may raise more), write the queued journal, commit."""
        from erpcore.services import ledger

        handle: Callable[[Event, UnitOfWork], None] = self.erp.bus.handle
        while self.events:
            handle(self.events.pop(0), self)
        ledger.flush_journal(self)
        self.session.commit()
