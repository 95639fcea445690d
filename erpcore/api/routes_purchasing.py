"""Procure to pay: requisitions, purchase orders and their actions, goods receipts, supplier invoices."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select

from erpcore.api import queries as q
from erpcore.api.auth import require
from erpcore.api.deps import ErpDep, IdFilter, IdPath, ListDep, line_quantities, offloaded, page, writer
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
from erpcore.api.strict import StrictJsonRoute
from erpcore.models import GoodsReceipt, PurchaseOrder, PurchaseRequisition, SupplierInvoice
from erpcore.services import purchasing, views
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["procure to pay"], route_class=StrictJsonRoute)
PurchasingReader = [Depends(require("purchase.order.read"))]
InvoiceReader = [Depends(require("purchase.invoice.read"))]
# A unit of work per service, acting as the caller, who must hold the permission the service declares.
ForCreateRequisition = Annotated[UnitOfWork, Depends(writer(purchasing.create_requisition, "purchase_requisition"))]
ForCreatePurchaseOrder = Annotated[UnitOfWork, Depends(writer(purchasing.create_purchase_order, "purchase_order"))]
ForApprovePurchaseOrder = Annotated[UnitOfWork, Depends(writer(purchasing.approve_purchase_order, "purchase_order"))]
ForCancelPurchaseOrder = Annotated[UnitOfWork, Depends(writer(purchasing.cancel_purchase_order, "purchase_order"))]
ForReceiveGoods = Annotated[UnitOfWork, Depends(writer(purchasing.receive_goods, "goods_receipt"))]
ForRegisterSupplierInvoice = Annotated[UnitOfWork, Depends(
    writer(purchasing.register_supplier_invoice, "supplier_invoice"))]
ForPaySupplierInvoice = Annotated[UnitOfWork, Depends(writer(purchasing.pay_supplier_invoice, "supplier_payment"))]
ForCancelSupplierInvoice = Annotated[UnitOfWork, Depends(
    writer(purchasing.cancel_supplier_invoice, "supplier_invoice"))]


@router.post("/purchase-requisitions", status_code=201, response_model=RequisitionOut)
@offloaded
def create_requisition(body: RequisitionIn, uow: ForCreateRequisition) -> dict[str, Any]:
    """Raise a manual purchase requisition."""
    return purchasing.create_requisition(uow, body.item_id, body.quantity, body.warehouse_id, body.needed_by).row


@router.get("/purchase-requisitions/{requisition_id}", response_model=RequisitionOut,
            dependencies=PurchasingReader)
def get_requisition(requisition_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One purchase requisition."""
    return views.one(erp.engine, PurchaseRequisition, requisition_id, "purchase requisition")


@router.get("/purchase-requisitions", response_model=Page[RequisitionOut], dependencies=PurchasingReader)
def list_requisitions(request: Request, erp: ErpDep, params: ListDep, item_id: IdFilter = None
                      ) -> dict[str, Any]:
    """Requisitions by id; filter by status (open, ordered), item and needed-by date."""
    rows = q.listing(erp.engine, PurchaseRequisition, params, PurchaseRequisition.needed_by, item_id=item_id)
    return page(request, rows, params)


@router.post("/purchase-orders", status_code=201, response_model=PurchaseOrderOut)
@offloaded
def create_purchase_order(body: PurchaseOrderIn, uow: ForCreatePurchaseOrder) -> dict[str, Any]:
    """Create a draft purchase order; lines may consume open requisitions."""
    lines = [PurchaseLineInput(x.item_id, x.quantity, x.unit_price, x.requisition_id) for x in body.lines]
    return purchasing.create_purchase_order(uow, body.supplier_id, lines, body.warehouse_id, body.order_date,
                                            body.department_id).row


@router.get("/purchase-orders/{po_id}", response_model=PurchaseOrderOut, dependencies=PurchasingReader)
def get_purchase_order(po_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One purchase order with its lines."""
    return views.purchase_order(erp.engine, po_id)


@router.get("/purchase-orders", response_model=Page[PurchaseOrderSummary], dependencies=PurchasingReader)
def list_purchase_orders(request: Request, erp: ErpDep, params: ListDep, supplier_id: IdFilter = None
                         ) -> dict[str, Any]:
    """Purchase orders by id; filter by status, supplier and order date."""
    rows = q.listing(erp.engine, PurchaseOrder, params, PurchaseOrder.order_date, supplier_id=supplier_id)
    return page(request, rows, params)


@router.post("/purchase-orders/{po_id}/approve", response_model=PurchaseOrderOut)
@offloaded
def approve_purchase_order(po_id: IdPath, uow: ForApprovePurchaseOrder) -> dict[str, Any]:
    """Approve a draft purchase order."""
    return purchasing.approve_purchase_order(uow, po_id).row


@router.post("/purchase-orders/{po_id}/cancel", response_model=PurchaseOrderOut)
@offloaded
def cancel_purchase_order(po_id: IdPath, uow: ForCancelPurchaseOrder) -> dict[str, Any]:
    """Cancel a purchase order that has received nothing; its requisitions reopen."""
    return purchasing.cancel_purchase_order(uow, po_id).row


@router.post("/purchase-orders/{po_id}/receive", status_code=201, response_model=GoodsReceiptOut)
@offloaded
def receive_goods(po_id: IdPath, uow: ForReceiveGoods, body: ReceiveIn | None = None) -> dict[str, Any]:
    """Post a goods receipt of the given lines (by line number), or of everything still open."""
    body = body or ReceiveIn()
    return purchasing.receive_goods(uow, po_id, line_quantities(body.lines), body.receipt_date).row


@router.get("/goods-receipts/{receipt_id}", response_model=GoodsReceiptOut, dependencies=PurchasingReader)
def get_goods_receipt(receipt_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One goods receipt with its lines."""
    return views.goods_receipt(erp.engine, receipt_id)


@router.get("/goods-receipts", response_model=Page[GoodsReceiptSummary], dependencies=PurchasingReader)
def list_goods_receipts(request: Request, erp: ErpDep, params: ListDep, purchase_order_id: IdFilter = None,
                        supplier_id: IdFilter = None) -> dict[str, Any]:
    """Goods receipts by id; filter by status, purchase order, supplier and receipt date."""
    of_supplier = [] if supplier_id is None else [
        GoodsReceipt.purchase_order_id.in_(select(PurchaseOrder.id).where(PurchaseOrder.supplier_id == supplier_id))]
    rows = q.listing(erp.engine, GoodsReceipt, params, GoodsReceipt.receipt_date, of_supplier,
                     purchase_order_id=purchase_order_id)
    return page(request, rows, params)


@router.post("/supplier-invoices", status_code=201, response_model=SupplierInvoiceRegistered)
@offloaded
def register_supplier_invoice(body: SupplierInvoiceIn, uow: ForRegisterSupplierInvoice) -> dict[str, Any]:
    """Register a supplier invoice and three-way match it: `matched`, or `on_hold` with the reason."""
    lines = [InvoiceLineInput(x.line_no, x.quantity, x.unit_price) for x in body.lines]
    result = purchasing.register_supplier_invoice(uow, body.purchase_order_id, body.supplier_ref, lines,
                                                  body.invoice_date)
    return {**result.row, "reason": result.reason}


@router.get("/supplier-invoices/{invoice_id}", response_model=SupplierInvoiceOut, dependencies=InvoiceReader)
def get_supplier_invoice(invoice_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One supplier invoice with its lines and, when held, the reason."""
    return views.supplier_invoice(erp.engine, invoice_id)


@router.get("/supplier-invoices", response_model=Page[SupplierInvoiceSummary], dependencies=InvoiceReader)
def list_supplier_invoices(request: Request, erp: ErpDep, params: ListDep, supplier_id: IdFilter = None,
                           purchase_order_id: IdFilter = None) -> dict[str, Any]:
    """Supplier invoices by id; filter by status (on_hold, matched, paid), supplier, PO and invoice date."""
    rows = q.listing(erp.engine, SupplierInvoice, params, SupplierInvoice.invoice_date, supplier_id=supplier_id,
                     purchase_order_id=purchase_order_id)
    return page(request, rows, params)


@router.post("/supplier-invoices/{invoice_id}/pay", status_code=201, response_model=SupplierPaymentOut)
@offloaded
def pay_supplier_invoice(invoice_id: IdPath, uow: ForPaySupplierInvoice, body: PayIn | None = None
                         ) -> dict[str, Any]:
    """Pay a matched invoice (its open amount unless given); an invoice on hold is refused with 409."""
    body = body or PayIn()
    return purchasing.pay_supplier_invoice(uow, invoice_id, body.amount, body.payment_date).row


@router.post("/supplier-invoices/{invoice_id}/cancel", response_model=SupplierInvoiceOut)
@offloaded
def cancel_supplier_invoice(invoice_id: IdPath, uow: ForCancelSupplierInvoice, body: CancelIn | None = None
                            ) -> dict[str, Any]:
    """Cancel an unpaid supplier invoice; a matched one is reversed in the ledger."""
    return purchasing.cancel_supplier_invoice(uow, invoice_id, (body or CancelIn()).cancel_date).row
