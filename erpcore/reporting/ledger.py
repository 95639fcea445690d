"""The trial balance: per account, opening balance, debits, credits and closing balance of a period, beside
the previous period's when compared.

Amounts come back rounded to the cent, because SQLite sums NUMERIC as floats.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, and_, case, func, select

from erpcore.domain import closing, reporting
from erpcore.domain.accounts import Role
from erpcore.domain.money import to_cents
from erpcore.domain.reporting import ZERO_CENTS, Span
from erpcore.models import Account, JournalEntry, JournalLine
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet, sheet


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
    previous_debit: Decimal | None = None
    previous_credit: Decimal | None = None
    previous_closing: Decimal | None = None


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
    previous_from: dt.date | None = None
    previous_to: dt.date | None = None
    previous_totals: TrialBalanceTotals | None = None

    def sheet(self) -> Sheet:
        compared = self.previous_totals is not None
        title = f"Trial balance {self.date_from} to {self.date_to}"
        if compared:
            title += f" (previous: {self.previous_from} to {self.previous_to})"
        totals = {c.key: getattr(self.totals, c.key) for c in COLUMNS if c.numeric}
        if self.previous_totals is not None:
            p = self.previous_totals
            totals |= {"previous_debit": p.debit, "previous_credit": p.credit, "previous_closing": p.closing}
        return sheet(title, COLUMNS + (COMPARED if compared else ()), self.accounts, totals)


COLUMNS = (Column("code", "code"), Column("name", "account"), Column("type", "type"),
           Column("opening", "opening", Kind.MONEY), Column("debit", "debit", Kind.MONEY),
           Column("credit", "credit", Kind.MONEY), Column("closing", "closing", Kind.MONEY))
COMPARED = (Column("previous_debit", "prev. debit", Kind.MONEY), Column("previous_credit", "prev. credit", Kind.MONEY),
            Column("previous_closing", "prev. closing", Kind.MONEY))


def trial_balance_report(engine: Engine, query: ReportQuery) -> TrialBalance:
    """The trial balance of the query's period, beside the previous period's when asked to compare."""
    assert query.span is not None
    return compared_trial_balance(engine, query.span) if query.compare else trial_balance(
        engine, query.span.date_from, query.span.date_to)


def compared_trial_balance(engine: Engine, span: Span) -> TrialBalance:
    """The period's trial balance with the previous period's debit, credit and closing on each account."""
    before = reporting.previous(span)
    return with_previous(trial_balance(engine, span.date_from, span.date_to),
                         trial_balance(engine, before.date_from, before.date_to))


def with_previous(now: TrialBalance, before: TrialBalance) -> TrialBalance:
    """`now` with `before`'s figures beside each account (an account only `before` has shows zero now)."""
    rows = []
    for _code, cur, prev in reporting.align(now.accounts, before.accounts, lambda r: r.code):
        base = cur or _blank(prev)  # type: ignore[arg-type]
        rows.append(dataclasses.replace(
            base, previous_debit=prev.debit if prev else ZERO_CENTS, previous_credit=prev.credit if prev else ZERO_CENTS,
            previous_closing=prev.closing if prev else ZERO_CENTS))
    return dataclasses.replace(now, accounts=rows, previous_from=before.date_from, previous_to=before.date_to,
                               previous_totals=before.totals)


def _blank(row: TrialBalanceRow) -> TrialBalanceRow:
    return TrialBalanceRow(row.account_id, row.code, row.name, row.type, ZERO_CENTS, ZERO_CENTS, ZERO_CENTS, ZERO_CENTS)


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
    return TrialBalanceTotals(sum((r.opening for r in rows), ZERO_CENTS), sum((r.debit for r in rows), ZERO_CENTS),
                              sum((r.credit for r in rows), ZERO_CENTS), sum((r.closing for r in rows), ZERO_CENTS))
