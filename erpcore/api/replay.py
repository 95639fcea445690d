"""The documents a write route answers with: which one a request wrote, and how to answer with it again.

A route declares its document kind (`writer(service, "sales_order")`). Its Idempotency-Key claim then records,
in the business transaction, the document the request wrote: the path's document for an action (approve,
cancel), the row this transaction inserted for a create (status 201). A retry whose first response was lost
is answered with that document as it is now, with the status the route answers with.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, text
from starlette.requests import Request

from erpcore.api import schemas as s
from erpcore.api import schemas_production
from erpcore.api import schemas_returns as sr
from erpcore.api.keystore import Locate, Written
from erpcore.exceptions import NotFound
from erpcore.models import (
    Customer,
    CustomerInvoice,
    CustomerReceipt,
    GoodsReceipt,
    Item,
    PurchaseOrder,
    PurchaseRequisition,
    SalesOrder,
    Shipment,
    Supplier,
    SupplierInvoice,
    SupplierPayment,
    Warehouse,
)
from erpcore.services import production_views, returns, views

Load = Callable[[Engine, int], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    table: str
    load: Load
    out: type[BaseModel]


def _flat(model: Any, what: str) -> Load:
    return lambda engine, doc_id: views.one(engine, model, doc_id, what)


KINDS: dict[str, Kind] = {
    "item": Kind(Item.__tablename__, _flat(Item, "item"), s.ItemOut),
    "customer": Kind(Customer.__tablename__, _flat(Customer, "customer"), s.PartyOut),
    "supplier": Kind(Supplier.__tablename__, _flat(Supplier, "supplier"), s.PartyOut),
    "warehouse": Kind(Warehouse.__tablename__, _flat(Warehouse, "warehouse"), s.WarehouseOut),
    "sales_order": Kind(SalesOrder.__tablename__, views.sales_order, s.SalesOrderOut),
    "shipment": Kind(Shipment.__tablename__, views.shipment, s.ShipmentOut),
    "customer_invoice": Kind(CustomerInvoice.__tablename__, views.customer_invoice, s.CustomerInvoiceOut),
    "customer_receipt": Kind(CustomerReceipt.__tablename__, _flat(CustomerReceipt, "customer receipt"),
                             s.CustomerReceiptOut),
    "purchase_requisition": Kind(PurchaseRequisition.__tablename__,
                                 _flat(PurchaseRequisition, "purchase requisition"), s.RequisitionOut),
    "purchase_order": Kind(PurchaseOrder.__tablename__, views.purchase_order, s.PurchaseOrderOut),
    "goods_receipt": Kind(GoodsReceipt.__tablename__, views.goods_receipt, s.GoodsReceiptOut),
    "supplier_invoice": Kind(SupplierInvoice.__tablename__, views.supplier_invoice, s.SupplierInvoiceOut),
    "supplier_payment": Kind(SupplierPayment.__tablename__, _flat(SupplierPayment, "supplier payment"),
                             s.SupplierPaymentOut),
    "work_order": Kind("work_order", production_views.work_order, schemas_production.WorkOrderOut),
    "customer_return": Kind("customer_return", returns.customer_return, sr.CustomerReturnOut),
    "supplier_return": Kind("supplier_return", returns.supplier_return, sr.SupplierReturnOut),
}
# The newest rows of a table this transaction inserted: on PostgreSQL the row versions it created (xmin), among
# the few newest visible ones; on SQLite the writer holds the database lock from BEGIN, so the newest row is ours.
_CREATED_PG = ("SELECT id FROM (SELECT id, xmin FROM {table} ORDER BY id DESC LIMIT 64) AS newest "
               "WHERE xmin = pg_current_xact_id()::xid ORDER BY id DESC LIMIT 1")
_CREATED_SQLITE = "SELECT max(id) FROM {table}"


def created_id(conn: Connection, table: str) -> int | None:
    """The id of the row of `table` the open transaction inserted last, or None."""
    sql = _CREATED_PG if conn.dialect.name == "postgresql" else _CREATED_SQLITE
    found = conn.execute(text(sql.format(table=table))).scalar()
    return None if found is None else int(found)


def locator(kind: str, request: Request) -> Locate:
    """How the claim of `request` finds the `kind` document it wrote, inside the business transaction."""
    table = KINDS[kind].table
    status = int(getattr(request.scope.get("route"), "status_code", None) or 200)
    values = [str(value) for value in request.path_params.values()]
    # runs before the path is validated: a path id that is not a number gets the route's 422, not a crash here
    ids = [int(value) for value in values if value.isascii() and value.isdigit()]
    if status != 201 and len(values) == 1 and len(ids) == 1:  # an action on the path's document
        return lambda conn: Written(kind, ids[0], status)

    def created(conn: Connection) -> Written | None:
        doc_id = created_id(conn, table)
        return None if doc_id is None else Written(kind, doc_id, status)

    return created


def render(engine: Engine, written: Written) -> bytes | None:
    """The document as its route renders it, as it is now; None when it is gone or unknown."""
    kind = KINDS.get(written.kind)
    if kind is None:
        return None
    try:
        row = kind.load(engine, written.id)
    except NotFound:
        return None
    return kind.out.model_validate(row).model_dump_json().encode()
