"""Reads of whole documents as rows (dicts), never ORM objects: on an engine, or on a transaction's connection
(a service reading back what it wrote before it commits, so its reply is exactly what was committed).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from erpcore.exceptions import NotFound
from erpcore.models import (
    CustomerInvoice,
    CustomerInvoiceLine,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    SalesOrderLine,
    Shipment,
    ShipmentLine,
    StockReservation,
    SupplierInvoice,
    SupplierInvoiceLine,
)
from erpcore.services.sql import Query

Source = Engine | Connection


@contextmanager
def connected(source: Source) -> Iterator[Connection]:
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as conn:
        yield conn


def one(source: Source, model: Any, doc_id: int, what: str) -> dict[str, Any]:
    """The row of `model` with `doc_id`, or NotFound naming `what`."""
    with connected(source) as conn:
        return _head(conn, model, doc_id, what)


_HEADS: dict[Any, Query] = {}  # per model: its row by id, built on first use


def _head(conn: Connection, model: Any, doc_id: int, what: str) -> dict[str, Any]:
    head = _HEADS.get(model)
    if head is None:
        head = _HEADS[model] = Query(select(*model.__table__.columns).where(model.id == bindparam("id")))
    rows = head.dicts(conn, {"id": doc_id})
    if not rows:
        raise NotFound(f"{what} {doc_id} does not exist")
    return rows[0]


def document(source: Source, model: Any, line_model: Any, parent: InstrumentedAttribute[int], doc_id: int,
             what: str) -> dict[str, Any]:
    """A document with its lines (in id order), read on one connection."""
    stmt = select(*line_model.__table__.columns).where(parent == doc_id).order_by(line_model.id)
    with connected(source) as conn:
        head = _head(conn, model, doc_id, what)
        return {**head, "lines": [dict(r) for r in conn.execute(stmt).mappings()]}


SALES_ORDER_LINES = Query(
    select(*SalesOrderLine.__table__.columns,  # a typed 0: '0.0000' like every other quantity, on both engines
           func.coalesce(StockReservation.quantity, cast(0, StockReservation.quantity.type)).label("qty_reserved"))
    .outerjoin(StockReservation, StockReservation.sales_order_line_id == SalesOrderLine.id)
    .where(SalesOrderLine.sales_order_id == bindparam("order_id")).order_by(SalesOrderLine.line_no))


def sales_order(source: Source, order_id: int) -> dict[str, Any]:
    """A sales order with its lines and their open reserved quantities."""
    with connected(source) as conn:
        head = _head(conn, SalesOrder, order_id, "sales order")
        return {**head, "lines": SALES_ORDER_LINES.dicts(conn, {"order_id": order_id})}


def shipment(source: Source, shipment_id: int) -> dict[str, Any]:
    return document(source, Shipment, ShipmentLine, ShipmentLine.shipment_id, shipment_id, "shipment")


def customer_invoice(source: Source, invoice_id: int) -> dict[str, Any]:
    return document(source, CustomerInvoice, CustomerInvoiceLine, CustomerInvoiceLine.customer_invoice_id,
                    invoice_id, "customer invoice")


def purchase_order(source: Source, po_id: int) -> dict[str, Any]:
    return document(source, PurchaseOrder, PurchaseOrderLine, PurchaseOrderLine.purchase_order_id, po_id,
                    "purchase order")


def goods_receipt(source: Source, receipt_id: int) -> dict[str, Any]:
    return document(source, GoodsReceipt, GoodsReceiptLine, GoodsReceiptLine.goods_receipt_id, receipt_id,
                    "goods receipt")


def supplier_invoice(source: Source, invoice_id: int) -> dict[str, Any]:
    return document(source, SupplierInvoice, SupplierInvoiceLine, SupplierInvoiceLine.supplier_invoice_id,
                    invoice_id, "supplier invoice")
