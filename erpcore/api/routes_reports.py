"""Reports: trial balance for a period, stock valuation by item and warehouse; fiscal periods and their close."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from erpcore import reports
from erpcore.api.auth import require
from erpcore.api.deps import MAX_ID, ErpDep, offloaded, writer
from erpcore.services import periods
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/trial-balance", response_model=reports.TrialBalance, dependencies=[Depends(require("finance.report.read"))])
def trial_balance(
    erp: ErpDep,
    date_from: Annotated[dt.date, Query(description="first day of the period")],
    date_to: Annotated[dt.date, Query(description="last day of the period")],
) -> reports.TrialBalance:
    """Opening balance, debits, credits and closing balance per account; totals sum to zero."""
    return reports.trial_balance(erp.engine, date_from, date_to)


@router.get("/stock-valuation", response_model=reports.StockValuation,
            dependencies=[Depends(require("warehouse.stock.read"))])
def stock_valuation(
    erp: ErpDep,
    warehouse_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
) -> reports.StockValuation:
    """On hand, reserved, value and average cost per item and warehouse."""
    return reports.stock_valuation(erp.engine, warehouse_id=warehouse_id)


periods_router = APIRouter(prefix="/periods", tags=["fiscal periods"])
ForClosePeriod = Annotated[UnitOfWork, Depends(writer(periods.close_period, None))]
ForReopenPeriod = Annotated[UnitOfWork, Depends(writer(periods.reopen_period, None))]
PeriodPath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="the month, YYYY-MM")]


@periods_router.get("", dependencies=[Depends(require("finance.period.read"))])
def list_periods(erp: ErpDep) -> list[dict[str, Any]]:
    """Periods closed or reopened, newest first; a month not listed is open."""
    with erp.engine.connect() as conn:
        return periods.list_periods(conn)


@periods_router.post("/{period}/close")
@offloaded
def close_period(period: PeriodPath, uow: ForClosePeriod) -> dict[str, Any]:
    """Close a month (409 naming its unfinished documents, or a failing check); postings into it then get 409."""
    return periods.close_period(uow, period).row


@periods_router.post("/{period}/reopen")
@offloaded
def reopen_period(period: PeriodPath, uow: ForReopenPeriod) -> dict[str, Any]:
    """Reopen a closed month (admin only)."""
    return periods.reopen_period(uow, period).row
