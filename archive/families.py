"""Document families by name: what a family's root table is and what "closed" means for its documents.

The closure of a family (which tables move with its root) is derived from the schema's foreign keys in
`archive.closure`; a family only says what the schema cannot: its root, the statuses that count as
closed, the polymorphic source link of ledger rows, and the carry-forward that keeps balances whole.
The registry's order is the order a run takes: a family's documents can only leave once nothing that
stays behind still references them (purchase orders free requisitions, requisitions free sales orders,
work orders free the sales order lines they were made for, documents free their journal entries and stock
moves).

Audit entries (`audit_event`) form a hash chain per `audit_chain` row, each entry sealing the one before: per
chain only a prefix leaves (entries in seq order from the chain's anchor, none after one that stays), and the
batch that moves them advances the chain's anchor in the same transaction, so `erpops audit verify` checks what
stays from the anchor and `erpops archive verify` checks the archived segment from GENESIS to exactly the
anchor (`archive.anchors`). A restore brings back only the newest archived entries of a chain, contiguous with
production, and moves the anchor back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

CARRY_FORWARD_SOURCE = "archive_carry_forward"
CarryForward = Literal["journal", "stock"]


@dataclass(frozen=True)
class Family:
    """One document family: its root table and the rules no foreign key expresses."""

    name: str
    root: str
    description: str
    closed: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # table -> statuses that are closed
    source_link: tuple[str, str] | None = None  # (type column, id column) naming a document by table and id
    carry_forward: CarryForward | None = None
    # table -> further date columns that can close a document after its indexed date (a work order planned in
    # one period is closed in a later one): the closing date is the latest of them all
    closing_dates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    dated_by: str | None = None  # the root's date column, where it is not an indexed DATE column
    # rows sealed in erpcore's audit hash chains: only a prefix per chain moves, with the chain's anchor
    # (`archive.anchors`); its batches take the Python path
    hash_chained: bool = False


FAMILIES: dict[str, Family] = {}


def register(family: Family) -> Family:
    FAMILIES[family.name] = family
    return family


def get(name: str) -> Family:
    from erpcore.exceptions import ConfigError

    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(f"unknown archive policy {name!r}; one of: {', '.join(FAMILIES)}") from None


_ANY_POSTED = ("posted", "cancelled")

register(Family("purchase_orders", "purchase_order", "purchase orders with receipts, supplier invoices, payments, "
                "supplier returns",
                {"purchase_order": ("closed", "cancelled"), "goods_receipt": _ANY_POSTED,
                 "supplier_invoice": ("paid", "cancelled"), "supplier_payment": _ANY_POSTED,
                 "supplier_return": _ANY_POSTED}))
register(Family("purchase_requisitions", "purchase_requisition", "requisitions once ordered or cancelled",
                {"purchase_requisition": ("ordered", "cancelled")}))
register(Family("work_orders", "work_order", "work orders with their component lines",
                {"work_order": ("closed", "cancelled")},
                closing_dates={"work_order": ("issue_date", "receipt_date", "close_date")}))
register(Family("sales_orders", "sales_order", "sales orders with lines, reservations, shipping instructions, "
                "shipments, invoices, receipts, customer returns",
                {"sales_order": ("closed", "cancelled"), "shipment": _ANY_POSTED,
                 "customer_invoice": ("paid", "cancelled"), "customer_receipt": _ANY_POSTED,
                 "customer_return": _ANY_POSTED}))
register(Family("payroll_runs", "payroll_run", "paid payroll runs with their payslips and department totals",
                {"payroll_run": ("paid",)}, closing_dates={"payroll_run": ("paid_on",)}, dated_by="run_date"))
register(Family("journal_entries", "journal_entry", "journal entries with their lines (balanced)",
                source_link=("source_type", "source_id"), carry_forward="journal"))
register(Family("stock_moves", "stock_move", "stock ledger moves", source_link=("source_type", "source_id"),
                carry_forward="stock"))
register(Family("audit_entries", "audit_event", "audit trail entries, oldest first per chain (its anchor moves "
                "with them)", hash_chained=True))
