"""Stock valuation: on hand, reserved, value and moving-average cost per item and warehouse, now.

Quantities come back rounded to 1e-4 and amounts to the cent, because SQLite sums NUMERIC as floats.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, or_, select

from erpcore.domain.money import ZERO, to_cents, to_four
from erpcore.domain.stock import Balance
from erpcore.models import Item, StockBalance, Warehouse
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet, sheet


@dataclass(frozen=True)
class StockValuationRow:
    item_id: int
    sku: str
    item_name: str
    warehouse_id: int
    warehouse_code: str
    on_hand: Decimal
    reserved: Decimal
    value: Decimal
    average_cost: Decimal


@dataclass(frozen=True)
class StockValuation:
    rows: list[StockValuationRow]
    total_on_hand: Decimal
    total_reserved: Decimal
    total_value: Decimal

    def sheet(self) -> Sheet:
        totals = {"on_hand": self.total_on_hand, "reserved": self.total_reserved, "value": self.total_value}
        return sheet("Stock valuation", COLUMNS, self.rows, totals)


COLUMNS = (Column("sku", "sku"), Column("item_name", "item"), Column("warehouse_code", "warehouse"),
           Column("on_hand", "on hand", Kind.QUANTITY), Column("reserved", "reserved", Kind.QUANTITY),
           Column("value", "value", Kind.MONEY), Column("average_cost", "avg cost", Kind.MONEY))


def stock_valuation_report(engine: Engine, query: ReportQuery) -> StockValuation:
    """Stock valuation, of one warehouse when the query names one."""
    return stock_valuation(engine, warehouse_id=query.warehouse_id, warehouse_code=query.warehouse_code)


def stock_valuation(engine: Engine, warehouse_id: int | None = None,
                    warehouse_code: str | None = None) -> StockValuation:
    """On hand, reserved, value and moving-average cost per item and warehouse (rows with any stock)."""
    stmt = (
        select(StockBalance.item_id, Item.sku, Item.name.label("item_name"), StockBalance.warehouse_id,
               Warehouse.code.label("warehouse_code"), StockBalance.on_hand, StockBalance.reserved,
               StockBalance.value_amount)
        .join(Item, Item.id == StockBalance.item_id)
        .join(Warehouse, Warehouse.id == StockBalance.warehouse_id)
        .where(or_(StockBalance.on_hand != 0, StockBalance.reserved != 0, StockBalance.value_amount != 0))
        .order_by(Item.sku, Warehouse.code)
    )
    if warehouse_id is not None:
        stmt = stmt.where(StockBalance.warehouse_id == warehouse_id)
    if warehouse_code is not None:
        stmt = stmt.where(Warehouse.code == warehouse_code)
    with engine.connect() as conn:
        rows = [_row(r) for r in conn.execute(stmt)]
    return StockValuation(rows, sum((r.on_hand for r in rows), ZERO), sum((r.reserved for r in rows), ZERO),
                          sum((r.value for r in rows), ZERO))


def _row(r: Any) -> StockValuationRow:
    on_hand, reserved, value = to_four(r.on_hand), to_four(r.reserved), to_cents(r.value_amount)
    return StockValuationRow(r.item_id, r.sku, r.item_name, r.warehouse_id, r.warehouse_code,
                             on_hand, reserved, value, Balance(on_hand, reserved, value).average_cost)
