"""Reports: trial balance for a period, stock valuation by item and warehouse."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from erpcore import reports
from erpcore.api.auth import require
from erpcore.api.deps import MAX_ID, ErpDep

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/trial-balance", response_model=reports.TrialBalance, dependencies=[Depends(require("reports:read"))])
def trial_balance(
    erp: ErpDep,
    date_from: Annotated[dt.date, Query(description="first day of the period")],
    date_to: Annotated[dt.date, Query(description="last day of the period")],
) -> reports.TrialBalance:
    """Opening balance, debits, credits and closing balance per account; totals sum to zero."""
    return reports.trial_balance(erp.engine, date_from, date_to)


@router.get("/stock-valuation", response_model=reports.StockValuation,
            dependencies=[Depends(require("stock_report:read"))])
def stock_valuation(
    erp: ErpDep,
    warehouse_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
) -> reports.StockValuation:
    """On hand, reserved, value and average cost per item and warehouse."""
    return reports.stock_valuation(erp.engine, warehouse_id=warehouse_id)
