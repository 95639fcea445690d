"""Test data through the services, with random codes so tests never collide."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

from erpcore.services import master, purchasing
from erpcore.services.bootstrap import Erp
from erpcore.services.documents import Doc
from erpcore.services.purchasing import PurchaseLineInput


@contextmanager
def intruder(engine: Engine) -> Iterator[Connection]:
    """A transaction of an intruder with the database's superuser: on PostgreSQL with triggers switched off
    (`session_replication_role = replica`), past the guards that refuse to change the audit trail or the ledger
    (for a test of what `erpops audit verify` or `erpops check` then finds)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


def tamper(engine: Engine, sql: str, **params: Any) -> None:
    """Run `sql` as an `intruder`."""
    with intruder(engine) as conn:
        conn.execute(text(sql), params)


def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class World:
    erp: Erp
    customer_id: int
    supplier_id: int
    item_id: int


def make_world(erp: Erp, price: str = "10.00", cost: str = "6.00", safety: str = "0", reorder: str = "0",
               credit_limit: str = "0") -> World:
    supplier = master.create_supplier(erp.uow(), uid("SUP"), "Supplier").id
    customer = master.create_customer(erp.uow(), uid("CUS"), "Customer", Decimal(credit_limit)).id
    item = master.create_item(erp.uow(), uid("SKU"), "Widget", Decimal(cost), Decimal(price),
                              safety_stock=Decimal(safety), reorder_qty=Decimal(reorder),
                              default_supplier_id=supplier).id
    return World(erp, customer, supplier, item)


def stock_up(world: World, qty: str, price: str | None = None, item_id: int | None = None) -> int:
    """Buy and receive `qty` of the item; returns the purchase order id."""
    erp = world.erp
    po = purchasing.create_purchase_order(erp.uow(), world.supplier_id, [
        PurchaseLineInput(item_id or world.item_id, Decimal(qty), Decimal(price) if price else None)]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    purchasing.receive_goods(erp.uow(), po)
    return po


def reserved(order: Doc) -> dict[int, Decimal]:
    """The reserved quantity per line number of an approved sales order as its service returned it."""
    return {int(line["line_no"]): Decimal(line["qty_reserved"]) for line in order.lines}
