"""The two foundation reports, set-based SQL returning rows: trial balance and stock valuation.

Amounts come back rounded to the cent and quantities to 1e-4, because SQLite sums NUMERIC as floats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, func, or_, select

from erpcore.domain import closing
from erpcore.domain.accounts import Role
from erpcore.domain.money import ZERO, to_cents, to_four
from erpcore.domain.stock import Balance
from erpcore.models import Account, Item, JournalEntry, JournalLine, StockBalance, Warehouse


@dataclass(frozen=True)
class TrialBalanceRow:
    account_id: int
    code: str
    name: str
    type: str
    opening: Decimal
    debit: Decimal
    credit: Decimal
    closing: Decimal


@dataclass(frozen=True)
class TrialBalanceTotals:
    opening: Decimal
    debit: Decimal
    credit: Decimal
    closing: Decimal

    @property
    def balanced(self) -> bool:
        return self.opening == 0 and self.closing == 0 and self.debit == self.credit


@dataclass(frozen=True)
class TrialBalance:
    date_from: dt.date
    date_to: dt.date
    accounts: list[TrialBalanceRow]
    totals: TrialBalanceTotals


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


def trial_balance(engine: Engine, date_from: dt.date, date_to: dt.date) -> TrialBalance:
    """Per account: opening balance, debits and credits in the period, closing balance.

    Income and expense open at zero at the start of `date_from`'s fiscal year, and earlier years' result
    opens in retained earnings (`domain.closing`: the year is closed at report time).
    """
    closing.require_period(date_from, date_to)
    year_start = closing.fiscal_year_start(date_from)
    earlier = JournalEntry.entry_date < year_start
    this_year = and_(JournalEntry.entry_date >= year_start, JournalEntry.entry_date < date_from)
    within = JournalEntry.entry_date >= date_from
    stmt = (
        select(Account.id, Account.code, Account.name, Account.type, Account.role,
               func.coalesce(func.sum(case((earlier, JournalLine.debit - JournalLine.credit))), 0).label("earlier"),
               func.coalesce(func.sum(case((this_year, JournalLine.debit - JournalLine.credit))), 0).label("year"),
               func.coalesce(func.sum(case((within, JournalLine.debit))), 0).label("debit"),
               func.coalesce(func.sum(case((within, JournalLine.credit))), 0).label("credit"))
        .select_from(Account)
        .outerjoin(JournalLine, JournalLine.account_id == Account.id)
        .outerjoin(JournalEntry, and_(JournalEntry.id == JournalLine.journal_entry_id,
                                      JournalEntry.entry_date <= date_to))
        .group_by(Account.id, Account.code, Account.name, Account.type, Account.role)
        .order_by(Account.code)
    )
    with engine.connect() as conn:
        found = conn.execute(stmt).all()
    retained = next((r.id for r in found if r.role == Role.RETAINED_EARNINGS), None)
    opening = closing.opening_balances([closing.Before(r.id, r.type, _cents(r.earlier), _cents(r.year))
                                        for r in found], retained)
    rows = [_tb_row(r.id, r.code, r.name, r.type, opening[r.id], r.debit, r.credit) for r in found]
    return TrialBalance(date_from, date_to, rows, _tb_totals(rows))


def _cents(value: object) -> Decimal:
    return to_cents(Decimal(str(value)))


def _tb_row(account_id: int, code: str, name: str, type_: str, opening: object, debit: object,
            credit: object) -> TrialBalanceRow:
    o, d, c = (_cents(v) for v in (opening, debit, credit))
    return TrialBalanceRow(account_id, code, name, type_, o, d, c, o + d - c)


def _tb_totals(rows: list[TrialBalanceRow]) -> TrialBalanceTotals:
    return TrialBalanceTotals(sum((r.opening for r in rows), ZERO), sum((r.debit for r in rows), ZERO),
                              sum((r.credit for r in rows), ZERO), sum((r.closing for r in rows), ZERO))


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
        rows = [_sv_row(r) for r in conn.execute(stmt)]
    return StockValuation(rows, sum((r.on_hand for r in rows), ZERO), sum((r.reserved for r in rows), ZERO),
                          sum((r.value for r in rows), ZERO))


def _sv_row(r: Any) -> StockValuationRow:
    on_hand, reserved, value = to_four(r.on_hand), to_four(r.reserved), to_cents(r.value_amount)
    return StockValuationRow(r.item_id, r.sku, r.item_name, r.warehouse_id, r.warehouse_code,
                             on_hand, reserved, value, Balance(on_hand, reserved, value).average_cost)
