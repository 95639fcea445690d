"""AR and AP ageing at a date: the open items of the receivables or payables account, by days overdue.

Open items come from the control account itself, so the ageing's total is the account's balance at that date
by construction of the same rows: every line of the account dated up to then is laid on the invoice it
belongs to (an invoice's own posting and its reversal, a receipt or payment through the invoice it settles).
A line of any other source (a journal a later chain adds) is its own open item, due on its date. An invoice
ages from its due date: not yet due is `current`, then one bucket per limit (`--buckets 30,60,90`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, and_, case, func, literal, select
from sqlalchemy.orm import InstrumentedAttribute

from erpcore.domain import reporting
from erpcore.domain.accounts import Role
from erpcore.domain.money import to_cents
from erpcore.models import (
    Account,
    Customer,
    CustomerInvoice,
    CustomerReceipt,
    JournalEntry,
    JournalLine,
    Supplier,
    SupplierInvoice,
    SupplierPayment,
)
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet, total_row

HALF_CENT = Decimal("0.005")


@dataclass(frozen=True)
class OpenItem:
    """What one document still owes at the date (credit-positive for AP, debit-positive for AR)."""

    party_id: int | None
    document: str
    document_date: dt.date
    due_date: dt.date
    days_overdue: int
    bucket: str
    amount: Decimal


@dataclass(frozen=True)
class PartyAgeing:
    party_id: int | None
    code: str
    name: str
    buckets: list[Decimal]
    total: Decimal


@dataclass(frozen=True)
class Ageing:
    ledger: str  # "receivables" | "payables"
    as_of: dt.date
    bucket_limits: list[int]
    bucket_labels: list[str]
    rows: list[PartyAgeing]
    bucket_totals: list[Decimal]
    total: Decimal
    items: list[OpenItem]

    def sheet(self) -> Sheet:
        party = "customer" if self.ledger == "receivables" else "supplier"
        columns = (Column("code", party), Column("name", "name"),
                   *(Column(f"bucket_{i}", label, Kind.MONEY) for i, label in enumerate(self.bucket_labels)),
                   Column("total", "total", Kind.MONEY))
        rows: list[tuple[object, ...]] = [(r.code, r.name, *r.buckets, r.total) for r in self.rows]
        totals = {f"bucket_{i}": amount for i, amount in enumerate(self.bucket_totals)} | {"total": self.total}
        title = f"{'AR' if self.ledger == 'receivables' else 'AP'} ageing at {self.as_of} (days overdue)"
        return Sheet(title, columns, rows, total_row(columns, totals))


@dataclass(frozen=True)
class Side:
    """Where one ledger's open items live: its control account, documents, settlements and parties."""

    ledger: str
    role: Role
    party: InstrumentedAttribute[Any]  # the journal line's party column
    party_model: Any
    invoice: Any
    settlement: Any
    settles: InstrumentedAttribute[Any]  # the settlement's invoice column
    sign: int  # +1: the account is debit-positive (AR), -1: credit-positive (AP)


AR = Side("receivables", Role.AR, JournalLine.customer_id, Customer, CustomerInvoice, CustomerReceipt,
          CustomerReceipt.customer_invoice_id, 1)
AP = Side("payables", Role.AP, JournalLine.supplier_id, Supplier, SupplierInvoice, SupplierPayment,
          SupplierPayment.supplier_invoice_id, -1)


def ar_ageing_report(engine: Engine, query: ReportQuery) -> Ageing:
    """Open customer invoices at the query's date, by days overdue, per customer."""
    assert query.as_of is not None
    return ageing(engine, AR, query.as_of, query.buckets)


def ap_ageing_report(engine: Engine, query: ReportQuery) -> Ageing:
    """Open supplier invoices at the query's date, by days overdue, per supplier."""
    assert query.as_of is not None
    return ageing(engine, AP, query.as_of, query.buckets)


def ageing(engine: Engine, side: Side, as_of: dt.date, limits: Sequence[int]) -> Ageing:
    """The ledger's open items at `as_of` in the buckets of `limits`, per party and in total."""
    with engine.connect() as conn:
        accounts = list(conn.execute(select(Account.id).where(Account.role == side.role.value)).scalars())
        found = conn.execute(_open_items(side, as_of, accounts)).all()
        parties = {r.id: (r.code, r.name) for r in conn.execute(
            select(side.party_model.id, side.party_model.code, side.party_model.name).where(
                side.party_model.id.in_({r.party_id for r in found if r.party_id is not None})))}
    items = [_item(r, as_of, limits) for r in found]
    items = [i for i in items if i.amount]
    return _summarise(side.ledger, as_of, limits, items, parties)


def _open_items(side: Side, as_of: dt.date, accounts: list[int]) -> Any:
    """The account's lines up to `as_of` summed per party and document; the accounts are given by id so that
    PostgreSQL estimates their lines from the column's statistics (a join on the role guesses 1 in 30)."""
    je, jl, inv, pay = JournalEntry, JournalLine, side.invoice, side.settlement
    invoice_table, settlement_table = inv.__tablename__, pay.__tablename__
    invoice_id = case((je.source_type == invoice_table, je.source_id),
                      (je.source_type == settlement_table, side.settles), else_=None)
    other_id = case((invoice_id.is_(None), je.source_id), else_=None)
    other_type = case((invoice_id.is_(None), je.source_type), else_=None)
    per_line = (
        select(side.party.label("party_id"), invoice_id.label("invoice_id"), other_type.label("other_type"),
               other_id.label("other_id"), je.entry_date, (jl.debit - jl.credit).label("amount"))
        .join(je, je.id == jl.journal_entry_id)
        .outerjoin(pay, and_(je.source_type == settlement_table, pay.id == je.source_id))
        .where(jl.account_id.in_(accounts), je.entry_date <= as_of)
    ).subquery()
    c = per_line.c
    lines = (  # grouped outside, by plain columns: PostgreSQL matches no GROUP BY expression holding parameters
        select(c.party_id, c.invoice_id, c.other_type, c.other_id, func.min(c.entry_date).label("first_date"),
               func.sum(c.amount).label("amount"))
        .group_by(c.party_id, c.invoice_id, c.other_type, c.other_id)
        .having(func.abs(func.sum(c.amount)) >= HALF_CENT)  # settled items stay in the database
    ).subquery()
    return (
        select(lines, inv.number, inv.invoice_date, inv.due_date, literal(side.sign).label("sign"))
        .outerjoin(inv, inv.id == lines.c.invoice_id)
        .order_by(lines.c.party_id, inv.due_date, lines.c.first_date)
    )


def _item(r: Any, as_of: dt.date, limits: Sequence[int]) -> OpenItem:
    if r.number is not None:
        document, issued, due = r.number, r.invoice_date, r.due_date
    else:
        document, issued, due = f"{r.other_type or 'invoice'} {r.other_id or r.invoice_id}", r.first_date, r.first_date
    overdue = (as_of - due).days
    labels = reporting.bucket_labels(limits)
    return OpenItem(r.party_id, document, issued, due, overdue, labels[reporting.bucket_of(overdue, limits)],
                    r.sign * to_cents(Decimal(str(r.amount))))


def _summarise(ledger: str, as_of: dt.date, limits: Sequence[int], items: list[OpenItem],
               parties: dict[int, tuple[str, str]]) -> Ageing:
    by_party: dict[int | None, list[OpenItem]] = defaultdict(list)
    for item in items:
        by_party[item.party_id].append(item)
    rows = []
    for party_id, own in by_party.items():
        code, name = parties.get(party_id, ("", "(no party)")) if party_id is not None else ("", "(no party)")
        buckets = reporting.age([(i.due_date, i.amount) for i in own], as_of, limits)
        rows.append(PartyAgeing(party_id, code, name, buckets, sum(buckets, reporting.ZERO_CENTS)))
    rows.sort(key=lambda r: (r.code, r.party_id or 0))
    width = len(limits) + 2
    bucket_totals = [sum((r.buckets[i] for r in rows), reporting.ZERO_CENTS) for i in range(width)]
    return Ageing(ledger, as_of, list(limits), reporting.bucket_labels(limits), rows, bucket_totals,
                  sum(bucket_totals, reporting.ZERO_CENTS), items)
