"""Document families by name: what a family's root table is and what "closed" means for its documents.

The closure of a family (which tables move with its root) is derived from the schema's foreign keys in
`archive.closure`; a family only says what the schema cannot: its root, the statuses that count as
closed, the polymorphic source link of ledger rows, and the carry-forward that keeps balances whole.
The registry's order is the order a run takes: a family's documents can only leave once nothing that
stays behind still references them (purchase orders free requisitions, requisitions free sales orders,
documents free their journal entries and stock moves).
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

register(Family("purchase_orders", "purchase_order", "purchase orders with receipts, supplier invoices, payments",
                {"purchase_order": ("closed", "cancelled"), "goods_receipt": _ANY_POSTED,
                 "supplier_invoice": ("paid", "cancelled"), "supplier_payment": _ANY_POSTED}))
register(Family("purchase_requisitions", "purchase_requisition", "requisitions once ordered or cancelled",
                {"purchase_requisition": ("ordered", "cancelled")}))
register(Family("sales_orders", "sales_order", "sales orders with lines, reservations, shipments, invoices, receipts",
                {"sales_order": ("closed", "cancelled"), "shipment": _ANY_POSTED,
                 "customer_invoice": ("paid", "cancelled"), "customer_receipt": _ANY_POSTED}))
register(Family("work_orders", "work_order", "work orders with their operations and material issues",
                {"work_order": ("closed", "cancelled")}))
register(Family("journal_entries", "journal_entry", "journal entries with their lines (balanced)",
                source_link=("source_type", "source_id"), carry_forward="journal"))
register(Family("stock_moves", "stock_move", "stock ledger moves", source_link=("source_type", "source_id"),
                carry_forward="stock"))
register(Family("audit_entries", "audit_event", "audit trail entries"))
