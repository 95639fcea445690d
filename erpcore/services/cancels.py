"""Every cancel by kind, for the shell: `erpops cancel goods-receipt GRN-2026-0000012` finds the document by its
number (or id) and calls the same service as the API, as the given actor. One registry, keyed by kind."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, select

from erpcore.access import Actor
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import (
    CustomerInvoice,
    CustomerReceipt,
    GoodsReceipt,
    PurchaseOrder,
    PurchaseRequisition,
    SalesOrder,
    Shipment,
    SupplierInvoice,
    SupplierPayment,
)
from erpcore.services import purchasing, reversals, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.documents import Doc


@dataclass(frozen=True)
class Cancel:
    model: Any
    what: str
    service: Callable[..., Doc]
    dated: bool  # the service takes a cancel date (its reversal is dated)


CANCELS: dict[str, Cancel] = {
    "sales-order": Cancel(SalesOrder, "sales order", sales.cancel_sales_order, False),
    "shipment": Cancel(Shipment, "shipment", sales.cancel_shipment, True),
    "customer-invoice": Cancel(CustomerInvoice, "customer invoice", sales.cancel_customer_invoice, True),
    "customer-receipt": Cancel(CustomerReceipt, "customer receipt", reversals.cancel_customer_receipt, True),
    "requisition": Cancel(PurchaseRequisition, "purchase requisition", reversals.cancel_requisition, False),
    "purchase-order": Cancel(PurchaseOrder, "purchase order", purchasing.cancel_purchase_order, False),
    "goods-receipt": Cancel(GoodsReceipt, "goods receipt", reversals.cancel_goods_receipt, True),
    "supplier-invoice": Cancel(SupplierInvoice, "supplier invoice", purchasing.cancel_supplier_invoice, True),
    "supplier-payment": Cancel(SupplierPayment, "supplier payment", reversals.cancel_supplier_payment, True),
}


def resolve(conn: Connection, model: Any, what: str, ref: str) -> int:
    """A document's id from its number (`GRN-2026-0000012`) or its id (`12`); 404 naming it otherwise."""
    column = model.id if ref.isdigit() else model.number
    value: int | str = int(ref) if ref.isdigit() else ref
    found = conn.scalar(select(model.id).where(column == value))
    if found is None:
        raise NotFound(f"{what} {ref} does not exist")
    return int(found)


def cancel(erp: Erp, actor: Actor, kind: str, ref: str, cancel_date: dt.date | None = None) -> Doc:
    """Cancel the `kind` document `ref` (number or id) as `actor`; its reversal is dated `cancel_date`."""
    entry = CANCELS[kind]
    with erp.engine.connect() as conn:
        doc_id = resolve(conn, entry.model, entry.what, ref)
    if entry.dated:
        return entry.service(erp.uow(actor), doc_id, cancel_date)
    if cancel_date is not None:
        raise ValidationFailed(f"cancelling a {entry.what} posts nothing, so it takes no date")
    return entry.service(erp.uow(actor), doc_id)


def resolve_on(engine: Engine, model: Any, what: str, ref: str) -> int:
    """`resolve` on a connection of its own."""
    with engine.connect() as conn:
        return resolve(conn, model, what, ref)
