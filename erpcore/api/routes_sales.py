"""Order to cash: sales orders and their actions, shipments, customer invoices and receipts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from erpcore.api import queries as q
from erpcore.api.auth import Principal, require
from erpcore.api.deps import ErpDep, IdPath, ListDep, line_quantities, offloaded, page, read_back
from erpcore.api.schemas import (
    CancelIn,
    CustomerInvoiceOut,
    CustomerInvoiceSummary,
    CustomerReceiptOut,
    InvoiceIn,
    Page,
    ReceiptIn,
    SalesOrderIn,
    SalesOrderOut,
    SalesOrderSummary,
    ShipIn,
    ShipmentOut,
    ShipmentSummary,
)
from erpcore.models import (
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerReceipt,
    SalesOrder,
    Shipment,
    ShipmentLine,
)
from erpcore.services import sales
from erpcore.services.sales import OrderLineInput

router = APIRouter(tags=["order to cash"])
SalesClerk = Annotated[Principal, Depends(require("sales:write"))]
Shipper = Annotated[Principal, Depends(require("shipments:write"))]
Invoicer = Annotated[Principal, Depends(require("invoicing:write"))]
Accountant = Annotated[Principal, Depends(require("invoices:write"))]
Cashier = Annotated[Principal, Depends(require("receipts:write"))]


def shipment(source: q.Source, shipment_id: int) -> dict[str, Any]:
    return q.document(source, Shipment, ShipmentLine, ShipmentLine.shipment_id, shipment_id, "shipment")


def customer_invoice(source: q.Source, invoice_id: int) -> dict[str, Any]:
    return q.document(source, CustomerInvoice, CustomerInvoiceLine, CustomerInvoiceLine.customer_invoice_id,
                      invoice_id, "customer invoice")


@router.post("/sales-orders", status_code=201, response_model=SalesOrderOut)
@offloaded
def create_sales_order(body: SalesOrderIn, erp: ErpDep, who: SalesClerk) -> dict[str, Any]:
    """Create a draft sales order; prices default to the items' list prices."""
    lines = [OrderLineInput(x.item_id, x.quantity, x.unit_price) for x in body.lines]
    uow = erp.uow(who.name)
    reply = read_back(uow, q.sales_order, "sales_order")
    sales.create_sales_order(uow, body.customer_id, lines, body.warehouse_id, body.order_date,
                             body.backorder_allowed)
    return reply


@router.get("/sales-orders/{order_id}", response_model=SalesOrderOut, dependencies=[Depends(require("sales:read"))])
def get_sales_order(order_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One sales order with its lines."""
    return q.sales_order(erp.engine, order_id)


@router.get("/sales-orders", response_model=Page[SalesOrderSummary], dependencies=[Depends(require("sales:read"))])
def list_sales_orders(request: Request, erp: ErpDep, params: ListDep, customer_id: int | None = None
                      ) -> dict[str, Any]:
    """Sales orders by id; filter by status, customer and order date."""
    rows = q.listing(erp.engine, SalesOrder, params, SalesOrder.order_date, customer_id=customer_id)
    return page(request, rows, params)


@router.post("/sales-orders/{order_id}/approve", response_model=SalesOrderOut)
@offloaded
def approve_sales_order(order_id: IdPath, erp: ErpDep, who: SalesClerk) -> dict[str, Any]:
    """Approve a draft order and reserve its stock (409 when an order without backorder cannot be covered)."""
    uow = erp.uow(who.name)
    reply = read_back(uow, q.sales_order, "sales_order", doc_id=order_id)
    sales.approve_sales_order(uow, order_id)
    return reply


@router.post("/sales-orders/{order_id}/cancel", response_model=SalesOrderOut)
@offloaded
def cancel_sales_order(order_id: IdPath, erp: ErpDep, who: SalesClerk) -> dict[str, Any]:
    """Cancel an order that has shipped nothing, releasing its reservations."""
    sales.cancel_sales_order(erp.uow(who.name), order_id)
    return q.sales_order(erp.engine, order_id)


@router.post("/sales-orders/{order_id}/ship", status_code=201, response_model=ShipmentOut)
@offloaded
def ship_sales_order(order_id: IdPath, erp: ErpDep, who: Shipper,
                     body: ShipIn | None = None) -> dict[str, Any]:
    """Post a shipment of the given lines (by line number), or of everything still open."""
    body = body or ShipIn()
    uow = erp.uow(who.name)
    reply = read_back(uow, shipment, "shipment")
    sales.ship_sales_order(uow, order_id, line_quantities(body.lines), body.ship_date)
    return reply


@router.post("/sales-orders/{order_id}/invoice", status_code=201, response_model=CustomerInvoiceOut)
@offloaded
def invoice_sales_order(order_id: IdPath, erp: ErpDep, who: Invoicer,
                        body: InvoiceIn | None = None) -> dict[str, Any]:
    """Invoice everything shipped and not yet invoiced."""
    uow = erp.uow(who.name)
    reply = read_back(uow, customer_invoice, "customer_invoice")
    sales.invoice_sales_order(uow, order_id, (body or InvoiceIn()).invoice_date)
    return reply


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut, dependencies=[Depends(require("sales:read"))])
def get_shipment(shipment_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One shipment with its lines."""
    return shipment(erp.engine, shipment_id)


@router.get("/shipments", response_model=Page[ShipmentSummary], dependencies=[Depends(require("sales:read"))])
def list_shipments(request: Request, erp: ErpDep, params: ListDep, sales_order_id: int | None = None,
                   customer_id: int | None = None) -> dict[str, Any]:
    """Shipments by id; filter by status, sales order, customer and ship date."""
    of_customer = [] if customer_id is None else [
        Shipment.sales_order_id.in_(select(SalesOrder.id).where(SalesOrder.customer_id == customer_id))]
    rows = q.listing(erp.engine, Shipment, params, Shipment.ship_date, of_customer, sales_order_id=sales_order_id)
    return page(request, rows, params)


@router.post("/shipments/{shipment_id}/cancel", response_model=ShipmentOut)
@offloaded
def cancel_shipment(shipment_id: IdPath, erp: ErpDep, who: Shipper,
                    body: CancelIn | None = None) -> dict[str, Any]:
    """Reverse an uninvoiced shipment: stock returns, the journal entry is reversed."""
    sales.cancel_shipment(erp.uow(who.name), shipment_id, (body or CancelIn()).cancel_date)
    return shipment(erp.engine, shipment_id)


@router.get("/customer-invoices/{invoice_id}", response_model=CustomerInvoiceOut,
            dependencies=[Depends(require("invoices:read"))])
def get_customer_invoice(invoice_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One customer invoice with its lines."""
    return customer_invoice(erp.engine, invoice_id)


@router.get("/customer-invoices", response_model=Page[CustomerInvoiceSummary],
            dependencies=[Depends(require("invoices:read"))])
def list_customer_invoices(request: Request, erp: ErpDep, params: ListDep, customer_id: int | None = None,
                           sales_order_id: int | None = None) -> dict[str, Any]:
    """Customer invoices by id; filter by status, customer, sales order and invoice date."""
    rows = q.listing(erp.engine, CustomerInvoice, params, CustomerInvoice.invoice_date, customer_id=customer_id,
                     sales_order_id=sales_order_id)
    return page(request, rows, params)


@router.post("/customer-invoices/{invoice_id}/cancel", response_model=CustomerInvoiceOut)
@offloaded
def cancel_customer_invoice(invoice_id: IdPath, erp: ErpDep, who: Accountant,
                            body: CancelIn | None = None) -> dict[str, Any]:
    """Reverse an unpaid invoice; its quantities become invoiceable again."""
    sales.cancel_customer_invoice(erp.uow(who.name), invoice_id, (body or CancelIn()).cancel_date)
    return customer_invoice(erp.engine, invoice_id)


@router.post("/customer-invoices/{invoice_id}/receipts", status_code=201, response_model=CustomerReceiptOut)
@offloaded
def record_receipt(invoice_id: IdPath, erp: ErpDep, who: Cashier,
                   body: ReceiptIn | None = None) -> dict[str, Any]:
    """Record money received against an invoice; without an amount, the open amount."""
    body = body or ReceiptIn()
    uow = erp.uow(who.name)
    reply = read_back(uow, lambda conn, doc_id: q.one(conn, CustomerReceipt, doc_id, "customer receipt"),
                      "customer_receipt")
    sales.record_customer_receipt(uow, invoice_id, body.amount, body.receipt_date)
    return reply
