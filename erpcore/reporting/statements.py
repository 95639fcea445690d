"""The balance sheet and the profit and loss of a period, each beside the previous period's when compared.

The balance sheet stands at the period's last day: assets debit-positive, liabilities and equity credit-positive,
earlier years' result in retained earnings and this year's so far as the result (`domain.closing`: the year
closes at report time), so that assets = liabilities + equity + result. The profit and loss is the movement of
income (credit-positive) and expense (debit-positive) accounts over the period.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, func, select

from erpcore.domain import closing, reporting
from erpcore.domain.accounts import AccountType, Role
from erpcore.domain.money import to_cents
from erpcore.domain.reporting import ZERO_CENTS, Span
from erpcore.models import Account, JournalEntry, JournalLine
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet

T = AccountType
SECTIONS = (T.ASSET, T.LIABILITY, T.EQUITY, T.INCOME, T.EXPENSE)
DEBIT_POSITIVE = frozenset({T.ASSET, T.EXPENSE})


@dataclass(frozen=True)
class StatementLine:
    """One account on a statement, in its natural sign; `previous` and `change` when compared."""

    section: str
    account_id: int
    code: str
    name: str
    amount: Decimal
    previous: Decimal | None = None
    change: Decimal | None = None


@dataclass(frozen=True)
class BalanceSheetTotals:
    assets: Decimal
    liabilities: Decimal
    equity: Decimal
    result: Decimal  # income - expense from the start of the fiscal year to the balance sheet date
    liabilities_equity_and_result: Decimal


@dataclass(frozen=True)
class BalanceSheet:
    date_from: dt.date
    date_to: dt.date  # the balance sheet date
    lines: list[StatementLine]
    totals: BalanceSheetTotals
    previous_date: dt.date | None = None
    previous_totals: BalanceSheetTotals | None = None

    def sheet(self) -> Sheet:
        title = f"Balance sheet at {self.date_to}" + (f" (previous: {self.previous_date})" if self.previous_date
                                                        else "")
        labels = (("total assets", "assets"), ("total liabilities", "liabilities"), ("total equity", "equity"),
                  ("result of the year", "result"),
                  ("liabilities + equity + result", "liabilities_equity_and_result"))
        subtotals, p = _subtotals(labels, self.totals, self.previous_totals), self.previous_totals
        return _statement_sheet(title, self.lines, subtotals, p is not None)


@dataclass(frozen=True)
class ProfitAndLossTotals:
    income: Decimal
    expense: Decimal
    result: Decimal


@dataclass(frozen=True)
class ProfitAndLoss:
    date_from: dt.date
    date_to: dt.date
    lines: list[StatementLine]
    totals: ProfitAndLossTotals
    previous_from: dt.date | None = None
    previous_to: dt.date | None = None
    previous_totals: ProfitAndLossTotals | None = None

    def sheet(self) -> Sheet:
        title = f"Profit and loss {self.date_from} to {self.date_to}"
        if self.previous_from is not None:
            title += f" (previous: {self.previous_from} to {self.previous_to})"
        labels = (("total income", "income"), ("total expense", "expense"), ("result", "result"))
        subtotals, p = _subtotals(labels, self.totals, self.previous_totals), self.previous_totals
        return _statement_sheet(title, self.lines, subtotals, p is not None)


COLUMNS = (Column("section", "section"), Column("code", "code"), Column("name", "account"),
           Column("amount", "amount", Kind.MONEY))
COMPARED = (Column("previous", "previous", Kind.MONEY), Column("change", "change", Kind.MONEY))


def _subtotals(labels: Sequence[tuple[str, str]], totals: object,
               previous: object | None) -> list[tuple[str, Decimal, Decimal | None]]:
    return [(label, getattr(totals, key), None if previous is None else getattr(previous, key))
            for label, key in labels]


def _statement_sheet(title: str, lines: Sequence[StatementLine],
                     subtotals: Sequence[tuple[str, Decimal, Decimal | None]], compared: bool) -> Sheet:
    columns = COLUMNS + (COMPARED if compared else ())
    rows: list[tuple[object, ...]] = [
        (ln.section, ln.code, ln.name, ln.amount, *((ln.previous, ln.change) if compared else ())) for ln in lines]
    rows += [("", "", label, now, *((before, now - (before or ZERO_CENTS)) if compared else ()))
             for label, now, before in subtotals]
    return Sheet(title, columns, rows)


def balance_sheet_report(engine: Engine, query: ReportQuery) -> BalanceSheet:
    """The balance sheet at the end of the query's period, beside the previous period's end when asked."""
    assert query.span is not None
    now = balance_sheet(engine, query.span)
    return with_previous_balance_sheet(now, balance_sheet(engine, reporting.previous(query.span))) \
        if query.compare else now


def profit_and_loss_report(engine: Engine, query: ReportQuery) -> ProfitAndLoss:
    """The profit and loss of the query's period, beside the previous period's when asked."""
    assert query.span is not None
    now = profit_and_loss(engine, query.span)
    return with_previous_profit_and_loss(now, profit_and_loss(engine, reporting.previous(query.span))) \
        if query.compare else now


def balance_sheet(engine: Engine, span: Span) -> BalanceSheet:
    """Assets, liabilities and equity at `span`'s last day, and the fiscal year's result up to it."""
    year_start = closing.fiscal_year_start(span.date_to)
    amount = JournalLine.debit - JournalLine.credit
    stmt = (
        select(Account.id, Account.code, Account.name, Account.type, Account.role,
               func.coalesce(func.sum(case((JournalEntry.entry_date < year_start, amount))), 0).label("earlier"),
               func.coalesce(func.sum(case((JournalEntry.entry_date >= year_start, amount))), 0).label("year"))
        .select_from(Account)
        .outerjoin(JournalLine, JournalLine.account_id == Account.id)
        .outerjoin(JournalEntry, and_(JournalEntry.id == JournalLine.journal_entry_id,
                                      JournalEntry.entry_date <= span.date_to))
        .group_by(Account.id, Account.code, Account.name, Account.type, Account.role)
        .order_by(Account.code)
    )
    with engine.connect() as conn:
        found = conn.execute(stmt).all()
    return _balance_sheet(span, found)


def _balance_sheet(span: Span, found: Sequence[Any]) -> BalanceSheet:
    prior = sum((_cents(r.earlier) for r in found if r.type in closing.RESULT_TYPES), ZERO_CENTS)
    result = -sum((_cents(r.year) for r in found if r.type in closing.RESULT_TYPES), ZERO_CENTS)
    lines = []
    for r in found:
        if r.type in closing.RESULT_TYPES:
            continue
        balance = _cents(r.earlier) + _cents(r.year) + (prior if r.role == Role.RETAINED_EARNINGS else ZERO_CENTS)
        if balance:
            lines.append(_line(r, balance))
    lines.sort(key=_order)
    return BalanceSheet(span.date_from, span.date_to, lines, _bs_totals(lines, result))


def _bs_totals(lines: Sequence[StatementLine], result: Decimal) -> BalanceSheetTotals:
    assets, liabilities, equity = (_section(lines, t) for t in (T.ASSET, T.LIABILITY, T.EQUITY))
    return BalanceSheetTotals(assets, liabilities, equity, result, liabilities + equity + result)


def profit_and_loss(engine: Engine, span: Span) -> ProfitAndLoss:
    """Income and expense per account over `span`, and the result."""
    stmt = (
        select(Account.id, Account.code, Account.name, Account.type,
               func.sum(JournalLine.debit - JournalLine.credit).label("movement"))
        .join(JournalLine, JournalLine.account_id == Account.id)
        .join(JournalEntry, JournalEntry.id == JournalLine.journal_entry_id)
        .where(Account.type.in_([T.INCOME.value, T.EXPENSE.value]),
               JournalEntry.entry_date.between(span.date_from, span.date_to))
        .group_by(Account.id, Account.code, Account.name, Account.type)
    )
    with engine.connect() as conn:
        found = conn.execute(stmt).all()
    lines = sorted((_line(r, _cents(r.movement)) for r in found if _cents(r.movement)), key=_order)
    return ProfitAndLoss(span.date_from, span.date_to, lines, _pl_totals(lines))


def _pl_totals(lines: Sequence[StatementLine]) -> ProfitAndLossTotals:
    income, expense = _section(lines, T.INCOME), _section(lines, T.EXPENSE)
    return ProfitAndLossTotals(income, expense, income - expense)


def with_previous_balance_sheet(now: BalanceSheet, before: BalanceSheet) -> BalanceSheet:
    """`now` with `before`'s amount and the change beside each account."""
    return dataclasses.replace(now, lines=compare_lines(now.lines, before.lines), previous_date=before.date_to,
                               previous_totals=before.totals)


def with_previous_profit_and_loss(now: ProfitAndLoss, before: ProfitAndLoss) -> ProfitAndLoss:
    """`now` with `before`'s amount and the change beside each account."""
    return dataclasses.replace(now, lines=compare_lines(now.lines, before.lines), previous_from=before.date_from,
                               previous_to=before.date_to, previous_totals=before.totals)


def compare_lines(now: Sequence[StatementLine], before: Sequence[StatementLine]) -> list[StatementLine]:
    """Each account of either period with its amount, the previous amount and the change (zero where absent)."""
    lines = []
    for _key, cur, prev in reporting.align(now, before, _order):
        previous = prev.amount if prev is not None else ZERO_CENTS
        if cur is not None:
            base = cur
        else:
            assert prev is not None  # a key comes from one side at least
            base = dataclasses.replace(prev, amount=ZERO_CENTS)
        lines.append(dataclasses.replace(base, previous=previous, change=base.amount - previous))
    return lines


def _line(r: Any, natural_debit: Decimal) -> StatementLine:
    sign = 1 if AccountType(r.type) in DEBIT_POSITIVE else -1
    return StatementLine(str(r.type), r.id, r.code, r.name, sign * natural_debit)


def _order(line: StatementLine) -> tuple[int, str]:
    return SECTIONS.index(AccountType(line.section)), line.code


def _section(lines: Sequence[StatementLine], section: AccountType) -> Decimal:
    return sum((ln.amount for ln in lines if ln.section == section), ZERO_CENTS)


def _cents(value: object) -> Decimal:
    return to_cents(Decimal(str(value)))
