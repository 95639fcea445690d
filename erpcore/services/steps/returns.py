"""Credit and debit notes settle their invoices; and the guards the returns put on the documents they follow: an invoice a credit note reversed in part, or a
purchase order a debit note settled in part, can no longer be cancelled (the reversal would count twice)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import bindparam, exists, func, select

from erpcore.domain.status import PostedStatus
from erpcore.exceptions import InvalidTransition
from erpcore.models import (
    CustomerInvoiceLine,
    CustomerReturn,
    CustomerReturnLine,
    PurchaseOrderLine,
    SupplierReturn,
    SupplierReturnLine,
)
from erpcore.services.sql import Query
from erpcore.services.unit_of_work import UnitOfWork

CREDITED = Query(select(func.coalesce(func.sum(CustomerReturn.total_amount - CustomerReturn.refund_amount), 0))
                 .where(CustomerReturn.customer_invoice_id == bindparam("invoice_id"),
                        CustomerReturn.status == PostedStatus.POSTED))
DEBITED = Query(select(func.coalesce(func.sum(SupplierReturn.total_amount - SupplierReturn.refund_amount), 0))
                .where(SupplierReturn.supplier_invoice_id == bindparam("invoice_id"),
                       SupplierReturn.status == PostedStatus.POSTED))


def credited(uow: UnitOfWork, invoice_id: int) -> Decimal:
    """What credit notes settled of a customer invoice: its open amount is total - paid - this."""
    return Decimal(CREDITED.scalar(uow.conn, {"invoice_id": invoice_id}) or 0)


def debited(uow: UnitOfWork, invoice_id: int) -> Decimal:
    """What debit notes settled of a supplier invoice: its open amount is total - paid - this."""
    return Decimal(DEBITED.scalar(uow.conn, {"invoice_id": invoice_id}) or 0)


def refuse_if_credited(uow: UnitOfWork, invoice_id: int, ref: object) -> None:
    """409 when a posted customer return credited any line of the invoice."""
    credited = uow.conn.scalar(select(exists().where(
        CustomerReturnLine.customer_invoice_line_id == CustomerInvoiceLine.id,
        CustomerInvoiceLine.customer_invoice_id == invoice_id,
        CustomerReturn.id == CustomerReturnLine.customer_return_id, CustomerReturn.status == PostedStatus.POSTED)))
    if credited:
        raise InvalidTransition(f"customer invoice {ref} has a credit note for returned goods; it can no longer "
                                "be cancelled")


def refuse_if_debited(uow: UnitOfWork, po_id: int, ref: object) -> None:
    """409 when a posted supplier return put billed goods of the purchase order on a debit note."""
    debited = uow.conn.scalar(select(exists().where(
        SupplierReturnLine.purchase_order_line_id == PurchaseOrderLine.id,
        PurchaseOrderLine.purchase_order_id == po_id, SupplierReturnLine.quantity > SupplierReturnLine.qty_unbilled,
        SupplierReturn.id == SupplierReturnLine.supplier_return_id, SupplierReturn.status == PostedStatus.POSTED)))
    if debited:
        raise InvalidTransition(f"supplier invoice {ref}: billed goods of its purchase order went back on a debit "
                                "note; it can no longer be cancelled")
