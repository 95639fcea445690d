"""Fiscal period close and reopen: services that own one unit of work each."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text, update

from erpcore.access import guarded
from erpcore.check import run_check
from erpcore.domain import periods
from erpcore.domain.periods import Period
from erpcore.exceptions import Conflict
from erpcore.models import FiscalPeriod
from erpcore.services.documents import Doc
from erpcore.services.sql import insert_ignore
from erpcore.services.unit_of_work import UnitOfWork

# What may not stay in a period being closed: documents not yet posted, or held.
UNFINISHED = """
SELECT 'sales order' AS document, number FROM sales_order WHERE status IN ('draft', 'pending_approval') AND order_date BETWEEN :a AND :b
UNION ALL SELECT 'purchase order', number FROM purchase_order WHERE status IN ('draft', 'pending_approval') AND order_date BETWEEN :a AND :b
UNION ALL SELECT 'supplier invoice on hold', number FROM supplier_invoice
    WHERE status = 'on_hold' AND invoice_date BETWEEN :a AND :b
ORDER BY 1, 2
"""


def _row(uow: UnitOfWork, period: Period) -> dict[str, Any]:
    """The period's row, created open when the month has none yet."""
    start, end = periods.bounds(period)
    insert_ignore(uow.conn, FiscalPeriod, [{"year": period[0], "month": period[1], "start_date": start,
                                            "end_date": end, "status": "open"}], ["year", "month"])
    return dict(uow.conn.execute(select(*FiscalPeriod.__table__.columns).where(
        FiscalPeriod.year == period[0], FiscalPeriod.month == period[1])).mappings().one())


@guarded("finance.period.close")
def close_period(uow: UnitOfWork, name: str) -> Doc:
    """Close a month: refused while documents of it are unfinished or `erpops check` fails; then no posting
    dated in it is accepted (409) until it is reopened."""
    period = periods.parse(name)
    start, end = periods.bounds(period)
    with uow:
        if uow.conn.dialect.name == "postgresql":  # wait for postings that passed the guard (steps.periods)
            uow.conn.execute(text("LOCK TABLE fiscal_period IN EXCLUSIVE MODE"))
        row = _row(uow, period)
        if row["status"] == "closed":
            raise Conflict(f"fiscal period {periods.name(period)} is already closed")
        unfinished = uow.conn.execute(text(UNFINISHED), {"a": start, "b": end}).all()
        if unfinished:
            listed = ", ".join(f"{r.document} {r.number}" for r in unfinished[:20])
            more = f" and {len(unfinished) - 20} more" if len(unfinished) > 20 else ""
            raise Conflict(f"fiscal period {periods.name(period)} has {len(unfinished)} unfinished document(s): "
                           f"{listed}{more}; post, cancel or release them first")
        report = run_check(uow.conn)
        if not report.ok:
            raise Conflict(f"fiscal period {periods.name(period)} cannot close while `erpops check` fails: "
                           + "; ".join(v.message for v in report.violations[:3]))
        return _set(uow, row["id"], "closed", dt.datetime.now(dt.UTC), uow.actor.name)


@guarded("finance.period.reopen")
def reopen_period(uow: UnitOfWork, name: str) -> Doc:
    """Reopen a closed month (admin only): postings dated in it are accepted again."""
    period = periods.parse(name)
    with uow:
        if uow.conn.dialect.name == "postgresql":
            uow.conn.execute(text("LOCK TABLE fiscal_period IN EXCLUSIVE MODE"))
        row = _row(uow, period)
        if row["status"] != "closed":
            raise Conflict(f"fiscal period {periods.name(period)} is not closed")
        return _set(uow, row["id"], "open", None, None)


def _set(uow: UnitOfWork, period_id: int, status: str, at: dt.datetime | None, by: str | None) -> Doc:
    row = uow.conn.execute(update(FiscalPeriod).where(FiscalPeriod.id == period_id).values(
        status=status, closed_at=at, closed_by=by).returning(*FiscalPeriod.__table__.columns)).mappings().one()
    before = {"status": "open" if status == "closed" else "closed"}
    uow.record("fiscal_period", dict(row) | {"number": f"{row['year']:04d}-{row['month']:02d}"}, before)
    uow.commit()
    return Doc(int(row["id"]), dict(row))


def list_periods(uow_conn: Any) -> list[dict[str, Any]]:
    """Every period with a row, newest first (months without a row are open)."""
    return [dict(r) for r in uow_conn.execute(select(*FiscalPeriod.__table__.columns).order_by(
        FiscalPeriod.year.desc(), FiscalPeriod.month.desc())).mappings()]
