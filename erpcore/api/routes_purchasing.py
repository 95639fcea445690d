"""Procure to pay: requisitions, purchase orders and their actions, goods receipts, supplier invoices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import Engine, select

from erpcore.api import queries as q
from erpcore.api.auth import Principal, require
from erpcore.api.deps import ErpDep, IdPath, ListDep, line_quantities, offloaded, page
from erpcore.api.schemas import (
    CancelIn,
    GoodsReceiptOut,
    GoodsReceiptSummary,
    Page,
    PayIn,
    PurchaseOrderIn,
    PurchaseOrderOut,
    PurchaseOrderSummary,
    ReceiveIn,
    RequisitionIn,
    RequisitionOut,
    SupplierInvoiceIn,
    SupplierInvoiceOut,
    SupplierInvoiceRegistered,
    SupplierInvoiceSummary,
    SupplierPaymentOut,
)
from erpcore.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequisition,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierPayment,
)
from erpcore.services import purchasing
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput

router = APIRouter(tags=["procure to pay"])
Buyer = Annotated[Principal, Depends(require("purchasing:write"))]
Receiver = Annotated[Principal, Depends(require("receiving:write"))]
Payables = Annotated[Principal, Depends(require("supplier_invoices:write"))]
Payer = Annotated[Principal, Depends(require("payments:write"))]
PurchasingReader = [Depends(require("purchasing:read"))]
InvoiceReader = [Depends(require("supplier_invoices:read"))]


def purchase_order(engine: Engine, po_id: int) -> dict[str, Any]:
    return q.document(engine, PurchaseOrder, PurchaseOrderLine, PurchaseOrderLine.purchase_order_id, po_id,
                      "purchase order")


def goods_receipt(engine: Engine, receipt_id: int) -> dict[str, Any]:
    return q.document(engine, GoodsReceipt, GoodsReceiptLine, GoodsReceiptLine.goods_receipt_id, receipt_id,
                      "goods receipt")


def supplier_invoice(engine: Engine, invoice_id: int) -> dict[str, Any]:
    return q.document(engine, SupplierInvoice, SupplierInvoiceLine, SupplierInvoiceLine.supplier_invoice_id,
                      invoice_id, "supplier invoice")


@router.post("/purchase-requisitions", status_code=201, response_model=RequisitionOut)
@offloaded
def create_requisition(body: RequisitionIn, erp: ErpDep, who: Buyer) -> dict[str, Any]:
    """Raise a manual purchase requisition."""
    req_id = purchasing.create_requisition(erp.uow(who.name), body.item_id, body.quantity, body.warehouse_id,
                                           body.needed_by)
    return q.one(erp.engine, PurchaseRequisition, req_id, "purchase requisition")


@router.get("/purchase-requisitions/{requisition_id}", response_model=RequisitionOut,
            dependencies=PurchasingReader)
def get_requisition(requisition_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One purchase requisition."""
    return q.one(erp.engine, PurchaseRequisition, requisition_id, "purchase requisition")


@router.get("/purchase-requisitions", response_model=Page[RequisitionOut], dependencies=PurchasingReader)
def list_requisitions(request: Request, erp: ErpDep, params: ListDep, item_id: int | None = None
                      ) -> dict[str, Any]:
    """Requisitions by id; filter by status (open, ordered), item and needed-by date."""
    rows = q.listing(erp.engine, PurchaseRequisition, params, PurchaseRequisition.needed_by, item_id=item_id)
    return page(request, rows, params)


@router.post("/purchase-orders", status_code=201, response_model=PurchaseOrderOut)
@offloaded
def create_purchase_order(body: PurchaseOrderIn, erp: ErpDep, who: Buyer) -> dict[str, Any]:
    """Create a draft purchase order; lines may consume open requisitions."""
    lines = [PurchaseLineInput(x.item_id, x.quantity, x.unit_price, x.requisition_id) for x in body.lines]
    po_id = purchasing.create_purchase_order(erp.uow(who.name), body.supplier_id, lines, body.warehouse_id,
                                             body.order_date)
    return purchase_order(erp.engine, po_id)


@router.get("/purchase-orders/{po_id}", response_model=PurchaseOrderOut, dependencies=PurchasingReader)
def get_purchase_order(po_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One purchase order with its lines."""
    return purchase_order(erp.engine, po_id)


@router.get("/purchase-orders", response_model=Page[PurchaseOrderSummary], dependencies=PurchasingReader)
def list_purchase_orders(request: Request, erp: ErpDep, params: ListDep, supplier_id: int | None = None
                         ) -> dict[str, Any]:
    """Purchase orders by id; filter by status, supplier and order date."""
    rows = q.listing(erp.engine, PurchaseOrder, params, PurchaseOrder.order_date, supplier_id=supplier_id)
    return page(request, rows, params)


@router.post("/purchase-orders/{po_id}/approve", response_model=PurchaseOrderOut)
@offloaded
def approve_purchase_order(po_id: IdPath, erp: ErpDep, who: Buyer) -> dict[str, Any]:
    """Approve a draft purchase order."""
    purchasing.approve_purchase_order(erp.uow(who.name), po_id)
    return purchase_order(erp.engine, po_id)


@router.post("/purchase-orders/{po_id}/cancel", response_model=PurchaseOrderOut)
@offloaded
def cancel_purchase_order(po_id: IdPath, erp: ErpDep, who: Buyer) -> dict[str, Any]:
    """Cancel a purchase order that has received nothing; its requisitions reopen."""
    purchasing.cancel_purchase_order(erp.uow(who.name), po_id)
    return purchase_order(erp.engine, po_id)


@router.post("/purchase-orders/{po_id}/receive", status_code=201, response_model=GoodsReceiptOut)
@offloaded
def receive_goods(po_id: IdPath, erp: ErpDep, who: Receiver, body: ReceiveIn | None = None) -> dict[str, Any]:
    """Post a goods receipt of the given lines (by line number), or of everything still open."""
    body = body or ReceiveIn()
    receipt_id = purchasing.receive_goods(erp.uow(who.name), po_id, line_quantities(body.lines),
                                          body.receipt_date)
    return goods_receipt(erp.engine, receipt_id)


@router.get("/goods-receipts/{receipt_id}", response_model=GoodsReceiptOut, dependencies=PurchasingReader)
def get_goods_receipt(receipt_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One goods receipt with its lines."""
    return goods_receipt(erp.engine, receipt_id)


@router.get("/goods-receipts", response_model=Page[GoodsReceiptSummary], dependencies=PurchasingReader)
def list_goods_receipts(request: Request, erp: ErpDep, params: ListDep, purchase_order_id: int | None = None,
                        supplier_id: int | None = None) -> dict[str, Any]:
    """Goods receipts by id; filter by status, purchase order, supplier and receipt date."""
    of_supplier = [] if supplier_id is None else [
        GoodsReceipt.purchase_order_id.in_(select(PurchaseOrder.id).where(PurchaseOrder.supplier_id == supplier_id))]
    rows = q.listing(erp.engine, GoodsReceipt, params, GoodsReceipt.receipt_date, of_supplier,
                     purchase_order_id=purchase_order_id)
    return page(request, rows, params)


@router.post("/supplier-invoices", status_code=201, response_model=SupplierInvoiceRegistered)
@offloaded
def register_supplier_invoice(body: SupplierInvoiceIn, erp: ErpDep, who: Payables) -> dict[str, Any]:
    """Register a supplier invoice and three-way match it: `matched`, or `on_hold` with the reason."""
    lines = [InvoiceLineInput(x.line_no, x.quantity, x.unit_price) for x in body.lines]
    result = purchasing.register_supplier_invoice(erp.uow(who.name), body.purchase_order_id, body.supplier_ref,
                                                  lines, body.invoice_date)
    return {**supplier_invoice(erp.engine, result.id), "reason": result.reason}


@router.get("/supplier-invoices/{invoice_id}", response_model=SupplierInvoiceOut, dependencies=InvoiceReader)
def get_supplier_invoice(invoice_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One supplier invoice with its lines and, when held, the reason."""
    return supplier_invoice(erp.engine, invoice_id)


@router.get("/supplier-invoices", response_model=Page[SupplierInvoiceSummary], dependencies=InvoiceReader)
def list_supplier_invoices(request: Request, erp: ErpDep, params: ListDep, supplier_id: int | None = None,
                           purchase_order_id: int | None = None) -> dict[str, Any]:
    """Supplier invoices by id; filter by status (on_hold, matched, paid), supplier, PO and invoice date."""
    rows = q.listing(erp.engine, SupplierInvoice, params, SupplierInvoice.invoice_date, supplier_id=supplier_id,
                     purchase_order_id=purchase_order_id)
    return page(request, rows, params)


@router.post("/supplier-invoices/{invoice_id}/pay", status_code=201, response_model=SupplierPaymentOut)
@offloaded
def pay_supplier_invoice(invoice_id: IdPath, erp: ErpDep, who: Payer, body: PayIn | None = None
                         ) -> dict[str, Any]:
    """Pay a matched invoice (its open amount unless given); an invoice on hold is refused with 409."""
    body = body or PayIn()
    payment_id = purchasing.pay_supplier_invoice(erp.uow(who.name), invoice_id, body.amount, body.payment_date)
    return q.one(erp.engine, SupplierPayment, payment_id, "supplier payment")


@router.post("/supplier-invoices/{invoice_id}/cancel", response_model=SupplierInvoiceOut)
@offloaded
def cancel_supplier_invoice(invoice_id: IdPath, erp: ErpDep, who: Payables, body: CancelIn | None = None
                            ) -> dict[str, Any]:
    """Cancel an unpaid supplier invoice; a matched one is reversed in the ledger."""
    purchasing.cancel_supplier_invoice(erp.uow(who.name), invoice_id, (body or CancelIn()).cancel_date)
    return supplier_invoice(erp.engine, invoice_id)
