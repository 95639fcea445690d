"""Sales by month and customer: the revenue account's movement (credit - debit) over a period.

Read from the ledger, so invoices, their cancellations and any later credit note count on the day they were
posted, and the report sums to the revenue account's movement. The customer of a revenue line is the one on
its entry's receivables line; revenue posted without one shows under no customer.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, func, select

from erpcore.domain.accounts import Role
from erpcore.domain.money import to_cents
from erpcore.domain.reporting import ZERO_CENTS, Span
from erpcore.models import Account, Customer, JournalEntry, JournalLine
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet, sheet


@dataclass(frozen=True)
class SalesRow:
    month: str  # YYYY-MM
    customer_id: int | None
    customer_code: str
    customer_name: str
    net_sales: Decimal


@dataclass(frozen=True)
class MonthSales:
    month: str
    net_sales: Decimal


@dataclass(frozen=True)
class Sales:
    date_from: dt.date
    date_to: dt.date
    rows: list[SalesRow]
    months: list[MonthSales]
    total: Decimal

    def sheet(self) -> Sheet:
        return sheet(f"Sales by month and customer {self.date_from} to {self.date_to}", COLUMNS, self.rows,
                     {"net_sales": self.total})


COLUMNS = (Column("month", "month"), Column("customer_code", "customer"), Column("customer_name", "name"),
           Column("net_sales", "net sales", Kind.MONEY))


def sales_report(engine: Engine, query: ReportQuery) -> Sales:
    """Sales by month and customer over the query's period."""
    assert query.span is not None
    return sales(engine, query.span)


def sales(engine: Engine, span: Span) -> Sales:
    """Net sales per month and customer over `span`, the months' totals and the grand total."""
    with engine.connect() as conn:
        found = conn.execute(_statement(span, engine.dialect.name)).all()
    rows = [SalesRow(r.month, r.customer_id, r.code or "", r.name or "(no customer)",
                     to_cents(Decimal(str(r.amount)))) for r in found]
    rows = [r for r in rows if r.net_sales]
    per_month: dict[str, Decimal] = defaultdict(lambda: ZERO_CENTS)
    for r in rows:
        per_month[r.month] += r.net_sales
    months = [MonthSales(m, amount) for m, amount in sorted(per_month.items())]
    return Sales(span.date_from, span.date_to, rows, months, sum((m.net_sales for m in months), ZERO_CENTS))


def _month(day: Any, dialect: str) -> Any:
    return func.strftime("%Y-%m", day) if dialect == "sqlite" else func.to_char(day, "YYYY-MM")


def _statement(span: Span, dialect: str) -> Any:
    je, jl = JournalEntry, JournalLine
    entries = select(je.id).where(je.entry_date.between(span.date_from, span.date_to)).subquery()
    customer_of = (  # an entry's customer: the one on its receivables line
        select(jl.journal_entry_id, func.max(jl.customer_id).label("customer_id"))
        .where(jl.customer_id.is_not(None), jl.journal_entry_id.in_(select(entries.c.id)))
        .group_by(jl.journal_entry_id)
    ).subquery()
    per_line = (
        select(_month(je.entry_date, dialect).label("month"), customer_of.c.customer_id,
               (jl.credit - jl.debit).label("amount"))
        .join(je, je.id == jl.journal_entry_id)
        .join(Account, Account.id == jl.account_id)
        .outerjoin(customer_of, customer_of.c.journal_entry_id == jl.journal_entry_id)
        .where(Account.role == Role.REVENUE.value, je.entry_date.between(span.date_from, span.date_to))
    ).subquery()
    grouped = (  # grouped by plain columns: PostgreSQL matches no GROUP BY expression holding parameters
        select(per_line.c.month, per_line.c.customer_id, func.sum(per_line.c.amount).label("amount"))
        .group_by(per_line.c.month, per_line.c.customer_id)
    ).subquery()
    return (
        select(grouped, Customer.code, Customer.name)
        .outerjoin(Customer, Customer.id == grouped.c.customer_id)
        .order_by(grouped.c.month, Customer.code)
    )
