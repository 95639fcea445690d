"""The general ledger and the stock ledger, both append-only, and the stock balance they feed.

A posting is unique per (source document, event): a duplicated event posts nothing twice.
Corrections are reversal entries (`reversal_of_id`), never updates.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk, money, qty


class JournalEntry(Timestamped, Base):
    __tablename__ = "journal_entry"
    __table_args__ = (UniqueConstraint("source_type", "source_id", "event"),)

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)  # gap-free per year
    entry_date: Mapped[dt.date] = mapped_column(Date, index=True)
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(BigId)
    event: Mapped[str] = mapped_column(String(24))
    description: Mapped[str]
    reversal_of_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("journal_entry.id"), index=True)


class JournalLine(Base):
    __tablename__ = "journal_line"
    __table_args__ = (
        CheckConstraint("debit >= 0 AND credit >= 0", name="amounts_positive"),
        CheckConstraint("(debit = 0) <> (credit = 0)", name="one_side"),
    )

    id: Mapped[intpk]
    journal_entry_id: Mapped[int] = mapped_column(BigId, ForeignKey("journal_entry.id"), index=True)
    account_id: Mapped[int] = mapped_column(BigId, ForeignKey("account.id"))
    debit: Mapped[money]
    credit: Mapped[money]
    customer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("customer.id"))
    supplier_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("supplier.id"))


Index("ix_journal_line_account", JournalLine.account_id)


class StockMove(Timestamped, Base):
    __tablename__ = "stock_move"
    __table_args__ = (
        UniqueConstraint("source_type", "source_line_id", "event"),
        CheckConstraint("quantity <> 0", name="quantity_nonzero"),
    )

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    move_date: Mapped[dt.date] = mapped_column(Date, index=True)
    quantity: Mapped[qty]  # signed: + in, - out
    value_amount: Mapped[money]  # signed, at the cost the move was valued at
    source_type: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[int] = mapped_column(BigId)
    source_line_id: Mapped[int] = mapped_column(BigId)
    event: Mapped[str] = mapped_column(String(24))


Index("ix_stock_move_item_wh", StockMove.item_id, StockMove.warehouse_id)


class StockBalance(Base):
    """On hand, reserved and value of one item in one warehouse; average cost = value / on hand."""

    __tablename__ = "stock_balance"
    __table_args__ = (
        CheckConstraint("on_hand >= 0", name="no_negative_stock"),
        CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within_on_hand"),
        CheckConstraint("value_amount >= 0", name="value_positive"),
    )

    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"), primary_key=True)
    on_hand: Mapped[qty]
    reserved: Mapped[qty]
    value_amount: Mapped[money]


class FiscalPeriod(Base):
    """A month of the fiscal year (calendar months). A closed period takes no posting; only a role allowed to
    may reopen it. A month without a row is open."""

    __tablename__ = "fiscal_period"
    __table_args__ = (UniqueConstraint("year", "month"), CheckConstraint("month BETWEEN 1 AND 12", name="month"))

    id: Mapped[intpk]
    year: Mapped[int]
    month: Mapped[int]
    start_date: Mapped[dt.date] = mapped_column(Date)
    end_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(12))  # open | closed
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(200))
