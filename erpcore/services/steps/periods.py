"""The closed-period guard of every posting, run in the posting's transaction just before its journal is numbered.

On PostgreSQL the posting reads the periods `FOR SHARE`, which holds a ROW SHARE lock on `fiscal_period` until
it commits; closing a period locks the table EXCLUSIVE, so it waits for postings that already passed the guard,
and postings that come after it wait for the close and then see the period closed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import bindparam, select

from erpcore.domain import periods
from erpcore.models import FiscalPeriod
from erpcore.services.sql import Query
from erpcore.services.unit_of_work import UnitOfWork

_CLOSED = (select(FiscalPeriod.year, FiscalPeriod.month)
           .where(FiscalPeriod.status == "closed", FiscalPeriod.start_date <= bindparam("last"),
                  FiscalPeriod.end_date >= bindparam("first")))
CLOSED_BETWEEN = Query(_CLOSED, postgresql=_CLOSED.with_for_update(read=True))


def require_open(uow: UnitOfWork, days: Iterable[dt.date]) -> None:
    """Refuse (409 PeriodClosed) when any of `days` lies in a closed fiscal period."""
    wanted = set(days)
    if not wanted:
        return
    rows = CLOSED_BETWEEN.rows(uow.conn, {"first": min(wanted), "last": max(wanted)})
    periods.require_open(wanted, {(r.year, r.month) for r in rows})


def guard_journal(uow: UnitOfWork) -> None:
    """The pre-commit step before the journal flush: no queued entry may fall in a closed period."""
    require_open(uow, (entry.entry_date for entry in uow.journal))
