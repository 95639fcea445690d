"""Reports, one route per entry of `erpcore.reporting.catalogue`; fiscal periods and their close."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from erpcore.api.auth import require
from erpcore.api.deps import MAX_ID, ErpDep, offloaded, writer
from erpcore.api.openapi import NOT_FOUND
from erpcore.reporting.catalogue import REPORTS, Input, ReportSpec, query_for
from erpcore.services import periods
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(prefix="/reports", tags=["reports"])


def _endpoint(spec: ReportSpec) -> Callable[..., Any]:
    """`GET /reports/<name>`: the report as JSON; the parameters its entry does not take are left unpublished
    and refused (422) when given."""
    shown = {i: i in spec.inputs for i in Input}
    period_q = Query(None, max_length=40, description="the month, YYYY-MM (default: this month)",
                     include_in_schema=shown[Input.PERIOD])
    from_q = Query(None, description="first day of a date range (with date_to)", include_in_schema=shown[Input.PERIOD])
    to_q = Query(None, description="last day of a date range (with date_from)", include_in_schema=shown[Input.PERIOD])
    compare_q = Query(False, description="add the previous period's figures", include_in_schema=shown[Input.COMPARE])
    as_of_q = Query(None, description="the day the ageing is taken at (default: today)",
                    include_in_schema=shown[Input.AS_OF])
    buckets_q = Query(None, max_length=200, description="days overdue where each bucket ends, e.g. 30,60,90",
                      include_in_schema=shown[Input.BUCKETS])
    warehouse_q = Query(None, gt=0, le=MAX_ID, description="only this warehouse",
                        include_in_schema=shown[Input.WAREHOUSE])

    def endpoint(
        erp: ErpDep,
        period: str | None = period_q,
        date_from: dt.date | None = from_q,
        date_to: dt.date | None = to_q,
        compare: bool = compare_q,
        as_of: dt.date | None = as_of_q,
        buckets: str | None = buckets_q,
        warehouse_id: int | None = warehouse_q,
    ) -> Any:
        query = query_for(spec, dt.date.today(), period=period, date_from=date_from, date_to=date_to,
                          compare=compare, as_of=as_of, buckets=buckets, warehouse_id=warehouse_id)
        return spec.load()(erp.engine, query)

    endpoint.__name__ = spec.name.replace("-", "_")
    return endpoint


for _spec in REPORTS.values():
    router.add_api_route(f"/{_spec.name}", _endpoint(_spec), methods=["GET"], response_model=_spec.result_type(),
                         dependencies=[Depends(require(_spec.permission))], summary=_spec.title,
                         description=_spec.summary, openapi_extra=NOT_FOUND if _spec.may_be_missing else None)


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
