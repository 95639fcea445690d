"""Returns (customer returns with their credit notes, supplier returns with their debit notes) and the cancels
that write a reversal: requisitions, goods receipts, customer receipts, supplier payments."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from erpcore.api import queries as q
from erpcore.api.auth import require
from erpcore.api.deps import ErpDep, IdFilter, IdPath, ListDep, offloaded, page, writer
from erpcore.api.openapi import NOT_FOUND
from erpcore.api.schemas import (
    CancelIn,
    CustomerReceiptOut,
    GoodsReceiptOut,
    Page,
    RequisitionOut,
    SupplierPaymentOut,
)
from erpcore.api.schemas_returns import (
    CustomerReturnIn,
    CustomerReturnOut,
    CustomerReturnSummary,
    SupplierReturnIn,
    SupplierReturnOut,
    SupplierReturnSummary,
)
from erpcore.api.strict import StrictJsonRoute
from erpcore.models import CustomerReturn, SupplierReturn
from erpcore.services import returns, reversals
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["returns and reversals"], route_class=StrictJsonRoute)
SalesReturnReader = [Depends(require("sales.return.read"))]
PurchaseReturnReader = [Depends(require("purchase.return.read"))]
ForCustomerReturn = Annotated[UnitOfWork, Depends(writer(returns.create_customer_return, "customer_return"))]
ForSupplierReturn = Annotated[UnitOfWork, Depends(writer(returns.create_supplier_return, "supplier_return"))]
ForCancelRequisition = Annotated[UnitOfWork, Depends(writer(reversals.cancel_requisition, "purchase_requisition"))]
ForCancelGoodsReceipt = Annotated[UnitOfWork, Depends(writer(reversals.cancel_goods_receipt, "goods_receipt"))]
ForCancelCustomerReceipt = Annotated[UnitOfWork, Depends(
    writer(reversals.cancel_customer_receipt, "customer_receipt"))]
ForCancelSupplierPayment = Annotated[UnitOfWork, Depends(
    writer(reversals.cancel_supplier_payment, "supplier_payment"))]


def _summed(lines: Sequence[tuple[int, Decimal]] | None) -> dict[int, Decimal] | None:
    """Request lines as the services take them; a line given twice is summed."""
    if lines is None:
        return None
    wanted: dict[int, Decimal] = {}
    for line_id, qty in lines:
        wanted[line_id] = wanted.get(line_id, Decimal(0)) + qty
    return wanted


@router.post("/customer-returns", status_code=201, response_model=CustomerReturnOut, openapi_extra=NOT_FOUND)
@offloaded
def create_customer_return(body: CustomerReturnIn, uow: ForCustomerReturn) -> dict[str, Any]:
    """Take goods back from a shipment: stock in at its shipped cost, a credit note at the invoiced price.
    A line returns at most what it shipped and was invoiced, less earlier returns (422 otherwise)."""
    lines = None if body.lines is None else [(x.shipment_line_id, x.quantity) for x in body.lines]
    return returns.create_customer_return(uow, body.shipment_id, _summed(lines), body.return_date).row


@router.get("/customer-returns/{return_id}", response_model=CustomerReturnOut, dependencies=SalesReturnReader)
def get_customer_return(return_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One customer return with its lines."""
    return returns.customer_return(erp.engine, return_id)


@router.get("/customer-returns", response_model=Page[CustomerReturnSummary], dependencies=SalesReturnReader)
def list_customer_returns(request: Request, erp: ErpDep, params: ListDep, customer_id: IdFilter = None,
                          shipment_id: IdFilter = None) -> dict[str, Any]:
    """Customer returns by id; filter by customer, shipment and return date."""
    rows = q.listing(erp.engine, CustomerReturn, params, CustomerReturn.return_date, customer_id=customer_id,
                     shipment_id=shipment_id)
    return page(request, rows, params)


@router.post("/supplier-returns", status_code=201, response_model=SupplierReturnOut, openapi_extra=NOT_FOUND)
@offloaded
def create_supplier_return(body: SupplierReturnIn, uow: ForSupplierReturn) -> dict[str, Any]:
    """Send goods back from a goods receipt: stock out at receipt cost, GRNI cleared for what was not billed,
    a debit note for what was. A line returns at most what it received, less earlier returns (422 otherwise)."""
    lines = None if body.lines is None else [(x.goods_receipt_line_id, x.quantity) for x in body.lines]
    return returns.create_supplier_return(uow, body.goods_receipt_id, _summed(lines), body.return_date).row


@router.get("/supplier-returns/{return_id}", response_model=SupplierReturnOut, dependencies=PurchaseReturnReader)
def get_supplier_return(return_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One supplier return with its lines."""
    return returns.supplier_return(erp.engine, return_id)


@router.get("/supplier-returns", response_model=Page[SupplierReturnSummary], dependencies=PurchaseReturnReader)
def list_supplier_returns(request: Request, erp: ErpDep, params: ListDep, supplier_id: IdFilter = None,
                          goods_receipt_id: IdFilter = None) -> dict[str, Any]:
    """Supplier returns by id; filter by supplier, goods receipt and return date."""
    rows = q.listing(erp.engine, SupplierReturn, params, SupplierReturn.return_date, supplier_id=supplier_id,
                     goods_receipt_id=goods_receipt_id)
    return page(request, rows, params)


@router.post("/purchase-requisitions/{requisition_id}/cancel", response_model=RequisitionOut)
@offloaded
def cancel_requisition(requisition_id: IdPath, uow: ForCancelRequisition) -> dict[str, Any]:
    """Cancel an open purchase requisition (409 once it is on a purchase order)."""
    return reversals.cancel_requisition(uow, requisition_id).row


@router.post("/goods-receipts/{receipt_id}/cancel", response_model=GoodsReceiptOut)
@offloaded
def cancel_goods_receipt(receipt_id: IdPath, uow: ForCancelGoodsReceipt, body: CancelIn | None = None
                         ) -> dict[str, Any]:
    """Reverse a goods receipt nothing of which is billed: stock and GRNI back out at its exact value."""
    return reversals.cancel_goods_receipt(uow, receipt_id, (body or CancelIn()).cancel_date).row


@router.post("/customer-receipts/{receipt_id}/cancel", response_model=CustomerReceiptOut)
@offloaded
def cancel_customer_receipt(receipt_id: IdPath, uow: ForCancelCustomerReceipt, body: CancelIn | None = None
                            ) -> dict[str, Any]:
    """Reverse a customer receipt; its invoice is open again by the amount."""
    return reversals.cancel_customer_receipt(uow, receipt_id, (body or CancelIn()).cancel_date).row


@router.post("/supplier-payments/{payment_id}/cancel", response_model=SupplierPaymentOut)
@offloaded
def cancel_supplier_payment(payment_id: IdPath, uow: ForCancelSupplierPayment, body: CancelIn | None = None
                            ) -> dict[str, Any]:
    """Reverse a supplier payment; its invoice is open again by the amount."""
    return reversals.cancel_supplier_payment(uow, payment_id, (body or CancelIn()).cancel_date).row
