"""Closures derived from the schema's foreign keys, without a database."""

from __future__ import annotations

import pytest

from archive import families
from archive.closure import Closure, Edge, date_column, derive
from erpcore.exceptions import ConfigError
from erpcore.models import metadata

PRESENT = set(metadata.tables)
ROOTS = {f.root for f in families.FAMILIES.values()}


def closure_of(name: str, present: set[str] = PRESENT) -> Closure:
    family = families.get(name)
    return derive(metadata, family, present, ROOTS - {family.root})


def owned_by(root: str) -> set[str]:
    """From the schema itself: the tables a NOT NULL foreign key chain ties to `root`, short of other roots."""
    members, grew = {root}, True
    while grew:
        grew = False
        for table in metadata.tables.values():
            if table.name in members or table.name in ROOTS:
                continue
            if any(fk.column.table.name in members and not fk.parent.nullable for fk in table.foreign_keys):
                members.add(table.name)
                grew = True
    return members


def test_a_sales_order_takes_every_row_that_cannot_exist_without_it() -> None:
    closure = closure_of("sales_orders")
    assert set(closure.tables) == owned_by("sales_order")
    assert {"sales_order_line", "stock_reservation", "shipment", "shipment_line", "customer_invoice",
            "customer_invoice_line", "customer_receipt", "shipping_instruction", "customer_return",
            "customer_return_line"} <= set(closure.tables)
    assert "work_order" not in closure.tables  # made for a line (nullable): a reference that holds the order
    assert Edge("work_order", "sales_order_line_id", "sales_order_line", "id") in closure.inbound
    assert closure.tables[0] == "sales_order"
    order = list(closure.tables)
    assert order.index("shipment") < order.index("shipment_line") < order.index("customer_invoice_line")
    assert closure.owning["customer_receipt"] == Edge("customer_receipt", "customer_invoice_id", "customer_invoice",
                                                      "id")


def test_nullable_keys_are_references_that_block_not_ownership() -> None:
    closure = closure_of("sales_orders")
    assert "purchase_requisition" not in closure.tables
    assert Edge("purchase_requisition", "sales_order_line_id", "sales_order_line", "id") in closure.inbound
    assert Edge("shipment_line", "reservation_id", "stock_reservation", "id") in closure.inbound


def test_a_closure_stops_at_another_familys_root() -> None:
    purchasing = closure_of("purchase_orders")
    assert "purchase_requisition" not in purchasing.tables
    assert {"goods_receipt_line", "supplier_invoice_line", "supplier_payment", "supplier_return",
            "supplier_return_line"} <= set(purchasing.tables)
    assert set(purchasing.tables) == owned_by("purchase_order")
    requisitions = closure_of("purchase_requisitions")
    assert requisitions.tables == ("purchase_requisition",)
    assert Edge("purchase_order_line", "requisition_id", "purchase_requisition", "id") in requisitions.inbound


def test_a_journal_entry_moves_with_its_lines_and_is_held_by_its_reversal() -> None:
    journal = closure_of("journal_entries")
    assert journal.tables == ("journal_entry", "journal_line")
    assert Edge("journal_entry", "reversal_of_id", "journal_entry", "id") in journal.inbound


def test_tables_missing_from_the_database_are_left_out() -> None:
    closure = closure_of("sales_orders", PRESENT - {"customer_receipt", "stock_reservation"})
    assert "customer_receipt" not in closure.tables and "stock_reservation" not in closure.tables


def test_documents_are_dated_by_their_indexed_date_column() -> None:
    assert date_column(metadata.tables["sales_order"]) == "order_date"
    assert date_column(metadata.tables["customer_receipt"]) == "receipt_date"
    assert date_column(metadata.tables["audit_event"]) == "created_at"
    assert date_column(metadata.tables["sales_order_line"]) is None


def test_families_are_registered_by_name_in_run_order() -> None:
    names = list(families.FAMILIES)
    assert names.index("purchase_orders") < names.index("purchase_requisitions") < names.index("sales_orders")
    assert names.index("sales_orders") < names.index("journal_entries")
    assert families.get("stock_moves").carry_forward == "stock"
    with pytest.raises(ConfigError, match="unknown archive policy 'payroll'; one of: purchase_orders"):
        families.get("payroll")


def test_audit_entries_move_alone_and_last() -> None:
    """Nothing references an audit entry and it owns nothing: its closure is the entry, dated by its timestamp."""
    closure = closure_of("audit_entries", PRESENT)
    assert closure.tables == ("audit_event",) and closure.inbound == ()
    assert closure.family.hash_chained and list(families.FAMILIES)[-1] == "audit_entries"
    assert not any(f.hash_chained for name, f in families.FAMILIES.items() if name != "audit_entries")
