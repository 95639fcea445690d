"""Production cost per work order: planned versus actual component cost, finished goods and variance.

Set-based SQL over the work orders' own cost columns (which `erpops check` proves equal their lines and
their WIP postings). Amounts are rounded to the cent, quantities to 1e-4 (SQLite sums NUMERIC as floats).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from erpcore.domain import closing
from erpcore.domain.money import ZERO, to_cents, to_four
from erpcore.models import Item, WorkOrder


@dataclass(frozen=True)
class ProductionCostRow:
    work_order_id: int
    number: str
    item_id: int
    sku: str
    status: str
    planned_date: dt.date
    quantity: Decimal
    qty_received: Decimal
    planned_cost: Decimal  # components at rolled-up standard cost
    actual_cost: Decimal  # components issued, at moving average
    cost_difference: Decimal  # actual - planned
    received_cost: Decimal  # finished goods into stock
    variance: Decimal  # written off to production variance at close
    in_wip: Decimal  # actual - received - variance: still in work in progress


@dataclass(frozen=True)
class ProductionCostTotals:
    planned_cost: Decimal
    actual_cost: Decimal
    cost_difference: Decimal
    received_cost: Decimal
    variance: Decimal
    in_wip: Decimal


@dataclass(frozen=True)
class ProductionCost:
    date_from: dt.date | None
    date_to: dt.date | None
    rows: list[ProductionCostRow]
    totals: ProductionCostTotals


def production_cost(engine: Engine, date_from: dt.date | None = None, date_to: dt.date | None = None,
                    status: str | None = None, work_order_id: int | None = None) -> ProductionCost:
    """Per work order planned in the period (every one when no dates are given): planned and actual component
    cost, the finished goods received, the variance at close and what is still in WIP; cancelled ones left out
    unless asked for by status or id."""
    if date_from is not None and date_to is not None:
        closing.require_period(date_from, date_to)
    stmt = (select(WorkOrder.id, WorkOrder.number, WorkOrder.item_id, Item.sku, WorkOrder.status,
                   WorkOrder.planned_date, WorkOrder.quantity, WorkOrder.qty_received, WorkOrder.planned_cost,
                   WorkOrder.issued_cost, WorkOrder.received_cost, WorkOrder.variance_amount)
            .join(Item, Item.id == WorkOrder.item_id).order_by(WorkOrder.planned_date, WorkOrder.id))
    if date_from is not None:
        stmt = stmt.where(WorkOrder.planned_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(WorkOrder.planned_date <= date_to)
    if work_order_id is not None:
        stmt = stmt.where(WorkOrder.id == work_order_id)
    if status is not None:
        stmt = stmt.where(WorkOrder.status == status)
    elif work_order_id is None:
        stmt = stmt.where(WorkOrder.status != "cancelled")
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(stmt)]
    return ProductionCost(date_from, date_to, rows, _totals(rows))


def _money(value: Any) -> Decimal:
    return to_cents(Decimal(str(value)))


def _row(r: Any) -> ProductionCostRow:
    planned, actual, received, variance = (_money(v) for v in (r.planned_cost, r.issued_cost, r.received_cost,
                                                                 r.variance_amount))
    return ProductionCostRow(r.id, r.number, r.item_id, r.sku, r.status, r.planned_date,
                             to_four(Decimal(str(r.quantity))), to_four(Decimal(str(r.qty_received))), planned,
                             actual, actual - planned, received, variance, actual - received - variance)


def _totals(rows: list[ProductionCostRow]) -> ProductionCostTotals:
    def total(name: str) -> Decimal:
        return sum((getattr(r, name) for r in rows), ZERO)

    return ProductionCostTotals(total("planned_cost"), total("actual_cost"), total("cost_difference"),
                                total("received_cost"), total("variance"), total("in_wip"))
