"""Order to cash: sales orders and their actions, shipments, customer invoices and receipts."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from erpcore.api import queries as q
from erpcore.api.auth import require
from erpcore.api.deps import ErpDep, IdFilter, IdPath, ListDep, line_quantities, offloaded, page, writer
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
from erpcore.api.strict import StrictJsonRoute
from erpcore.models import CustomerInvoice, SalesOrder, Shipment
from erpcore.services import sales, views
from erpcore.services.sales import OrderLineInput
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["order to cash"], route_class=StrictJsonRoute)
# A unit of work per service, acting as the caller, who must hold the permission the service declares.
ForCreateSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.create_sales_order, "sales_order"))]
ForApproveSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.approve_sales_order, "sales_order"))]
ForCancelSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.cancel_sales_order, "sales_order"))]
ForShipSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.ship_sales_order, "shipment"))]
ForInvoiceSalesOrder = Annotated[UnitOfWork, Depends(writer(sales.invoice_sales_order, "customer_invoice"))]
ForCancelShipment = Annotated[UnitOfWork, Depends(writer(sales.cancel_shipment, "shipment"))]
ForCancelCustomerInvoice = Annotated[UnitOfWork, Depends(writer(sales.cancel_customer_invoice, "customer_invoice"))]
ForRecordCustomerReceipt = Annotated[UnitOfWork, Depends(writer(sales.record_customer_receipt, "customer_receipt"))]


@router.post("/sales-orders", status_code=201, response_model=SalesOrderOut)
@offloaded
def create_sales_order(body: SalesOrderIn, uow: ForCreateSalesOrder) -> dict[str, Any]:
    """Create a draft sales order; prices default to the items' list prices."""
    lines = [OrderLineInput(x.item_id, x.quantity, x.unit_price, x.discount_percent) for x in body.lines]
    return sales.create_sales_order(uow, body.customer_id, lines, body.warehouse_id, body.order_date,
                                    body.backorder_allowed).row


@router.get("/sales-orders/{order_id}", response_model=SalesOrderOut, dependencies=[Depends(require("sales.order.read"))])
def get_sales_order(order_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One sales order with its lines."""
    return views.sales_order(erp.engine, order_id)


@router.get("/sales-orders", response_model=Page[SalesOrderSummary], dependencies=[Depends(require("sales.order.read"))])
def list_sales_orders(request: Request, erp: ErpDep, params: ListDep, customer_id: IdFilter = None
                      ) -> dict[str, Any]:
    """Sales orders by id; filter by status, customer and order date."""
    rows = q.listing(erp.engine, SalesOrder, params, SalesOrder.order_date, customer_id=customer_id)
    return page(request, rows, params)


@router.post("/sales-orders/{order_id}/approve", response_model=SalesOrderOut)
@offloaded
def approve_sales_order(order_id: IdPath, uow: ForApproveSalesOrder) -> dict[str, Any]:
    """Approve a draft order and reserve its stock (409 when an order without backorder cannot be covered)."""
    return sales.approve_sales_order(uow, order_id).row


@router.post("/sales-orders/{order_id}/cancel", response_model=SalesOrderOut)
@offloaded
def cancel_sales_order(order_id: IdPath, uow: ForCancelSalesOrder) -> dict[str, Any]:
    """Cancel an order that has shipped nothing, releasing its reservations."""
    return sales.cancel_sales_order(uow, order_id).row


@router.post("/sales-orders/{order_id}/ship", status_code=201, response_model=ShipmentOut)
@offloaded
def ship_sales_order(order_id: IdPath, uow: ForShipSalesOrder,
                     body: ShipIn | None = None) -> dict[str, Any]:
    """Post a shipment of the given lines (by line number), or of everything still open."""
    body = body or ShipIn()
    return sales.ship_sales_order(uow, order_id, line_quantities(body.lines), body.ship_date).row


@router.post("/sales-orders/{order_id}/invoice", status_code=201, response_model=CustomerInvoiceOut)
@offloaded
def invoice_sales_order(order_id: IdPath, uow: ForInvoiceSalesOrder,
                        body: InvoiceIn | None = None) -> dict[str, Any]:
    """Invoice everything shipped and not yet invoiced."""
    return sales.invoice_sales_order(uow, order_id, (body or InvoiceIn()).invoice_date).row


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut, dependencies=[Depends(require("sales.order.read"))])
def get_shipment(shipment_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One shipment with its lines."""
    return views.shipment(erp.engine, shipment_id)


@router.get("/shipments", response_model=Page[ShipmentSummary], dependencies=[Depends(require("sales.order.read"))])
def list_shipments(request: Request, erp: ErpDep, params: ListDep, sales_order_id: IdFilter = None,
                   customer_id: IdFilter = None) -> dict[str, Any]:
    """Shipments by id; filter by status, sales order, customer and ship date."""
    of_customer = [] if customer_id is None else [
        Shipment.sales_order_id.in_(select(SalesOrder.id).where(SalesOrder.customer_id == customer_id))]
    rows = q.listing(erp.engine, Shipment, params, Shipment.ship_date, of_customer, sales_order_id=sales_order_id)
    return page(request, rows, params)


@router.post("/shipments/{shipment_id}/cancel", response_model=ShipmentOut)
@offloaded
def cancel_shipment(shipment_id: IdPath, uow: ForCancelShipment,
                    body: CancelIn | None = None) -> dict[str, Any]:
    """Reverse an uninvoiced shipment: stock returns, the journal entry is reversed."""
    return sales.cancel_shipment(uow, shipment_id, (body or CancelIn()).cancel_date).row


@router.get("/customer-invoices/{invoice_id}", response_model=CustomerInvoiceOut,
            dependencies=[Depends(require("sales.invoice.read"))])
def get_customer_invoice(invoice_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One customer invoice with its lines."""
    return views.customer_invoice(erp.engine, invoice_id)


@router.get("/customer-invoices", response_model=Page[CustomerInvoiceSummary],
            dependencies=[Depends(require("sales.invoice.read"))])
def list_customer_invoices(request: Request, erp: ErpDep, params: ListDep, customer_id: IdFilter = None,
                           sales_order_id: IdFilter = None) -> dict[str, Any]:
    """Customer invoices by id; filter by status, customer, sales order and invoice date."""
    rows = q.listing(erp.engine, CustomerInvoice, params, CustomerInvoice.invoice_date, customer_id=customer_id,
                     sales_order_id=sales_order_id)
    return page(request, rows, params)


@router.post("/customer-invoices/{invoice_id}/cancel", response_model=CustomerInvoiceOut)
@offloaded
def cancel_customer_invoice(invoice_id: IdPath, uow: ForCancelCustomerInvoice,
                            body: CancelIn | None = None) -> dict[str, Any]:
    """Reverse an unpaid invoice; its quantities become invoiceable again."""
    return sales.cancel_customer_invoice(uow, invoice_id, (body or CancelIn()).cancel_date).row


@router.post("/customer-invoices/{invoice_id}/receipts", status_code=201, response_model=CustomerReceiptOut)
@offloaded
def record_receipt(invoice_id: IdPath, uow: ForRecordCustomerReceipt,
                   body: ReceiptIn | None = None) -> dict[str, Any]:
    """Record money received against an invoice; without an amount, the open amount."""
    body = body or ReceiptIn()
    return sales.record_customer_receipt(uow, invoice_id, body.amount, body.receipt_date).row
