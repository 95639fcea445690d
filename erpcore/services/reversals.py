"""The cancels that were missing: a requisition still open, a goods receipt not billed yet, a customer receipt
and a supplier payment. A posted document is never changed beyond its status: its cancel writes the reversal
entry (`journal_entry.reversal_of_id`) that nets its posting to zero, and re-derives what the document fed.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import bindparam, exists, select, update

from erpcore.access import guarded
from erpcore.domain import dates, returns, transitions
from erpcore.domain.money import show_qty
from erpcore.domain.status import (
    InvoiceStatus,
    PostedStatus,
    RequisitionStatus,
    SupplierInvoiceStatus,
)
from erpcore.exceptions import InvalidTransition, NotFound
from erpcore.models import (
    CustomerInvoice,
    CustomerReceipt,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequisition,
    SupplierInvoice,
    SupplierPayment,
    SupplierReturn,
)
from erpcore.services import views
from erpcore.services.documents import Doc
from erpcore.services.purchasing import _refresh_po_status
from erpcore.services.sales import _refresh_status
from erpcore.services.sql import locked
from erpcore.services.steps import journal, stock
from erpcore.services.unit_of_work import UnitOfWork


@guarded("purchase.requisition.cancel")
def cancel_requisition(uow: UnitOfWork, requisition_id: int) -> Doc:
    """Cancel an open purchase requisition (one already on a purchase order is refused: cancel the order)."""
    with uow:
        conn = uow.conn
        req = conn.execute(locked(select(PurchaseRequisition.number, PurchaseRequisition.status)
                                  .where(PurchaseRequisition.id == requisition_id))).one_or_none()
        if req is None:
            raise NotFound(f"purchase requisition {requisition_id} does not exist")
        transitions.require("purchase requisition", "cancel", req.status, req.number)
        conn.execute(update(PurchaseRequisition).where(PurchaseRequisition.id == requisition_id)
                     .values(status=RequisitionStatus.CANCELLED))
        doc = Doc(requisition_id, views.one(conn, PurchaseRequisition, requisition_id, "purchase requisition"))
        uow.commit()
        return doc


@guarded("purchase.receipt.cancel")
def cancel_goods_receipt(uow: UnitOfWork, receipt_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Reverse a goods receipt nothing of which was billed: its stock leaves at exactly the value it came in
    with, GRNI is reversed with it, and the order's lines take the quantities back as still to receive."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        conn = uow.conn
        po_id = conn.scalar(select(GoodsReceipt.purchase_order_id).where(GoodsReceipt.id == receipt_id))
        if po_id is None:
            raise NotFound(f"goods receipt {receipt_id} does not exist")
        conn.execute(locked(select(PurchaseOrder.id).where(PurchaseOrder.id == po_id))).one()
        gr = conn.execute(locked(select(GoodsReceipt.number, GoodsReceipt.status, GoodsReceipt.receipt_date,
                                        GoodsReceipt.warehouse_id).where(GoodsReceipt.id == receipt_id))).one()
        transitions.require("goods receipt", "cancel", gr.status, gr.number)
        dates.not_before("cancel_date", cancel_date, f"goods receipt {gr.number}'s date", gr.receipt_date)
        if conn.scalar(select(exists().where(SupplierReturn.goods_receipt_id == receipt_id,
                                             SupplierReturn.status == PostedStatus.POSTED))):
            raise InvalidTransition(f"goods receipt {gr.number} has goods returned to the supplier; it can no "
                                    "longer be cancelled")
        lines = conn.execute(select(
            GoodsReceiptLine.id, GoodsReceiptLine.purchase_order_line_id, GoodsReceiptLine.item_id,
            GoodsReceiptLine.quantity, GoodsReceiptLine.value_amount, PurchaseOrderLine.line_no,
            PurchaseOrderLine.qty_received, PurchaseOrderLine.qty_invoiced)
            .join(PurchaseOrderLine, PurchaseOrderLine.id == GoodsReceiptLine.purchase_order_line_id)
            .where(GoodsReceiptLine.goods_receipt_id == receipt_id).order_by(GoodsReceiptLine.id)).all()
        for line in lines:
            if line.qty_received - line.quantity < line.qty_invoiced:
                raise InvalidTransition(
                    f"goods receipt {gr.number} is billed: PO line {line.line_no} has {show_qty(line.qty_invoiced)} "
                    f"invoiced, {show_qty(line.qty_received - line.quantity)} would stay received; cancel the "
                    "supplier invoice first, or return the goods to the supplier")
        wh = gr.warehouse_id
        balances = stock.lock_balances(uow, [(line.item_id, wh) for line in lines])
        for line in lines:
            key = (line.item_id, wh)
            balances[key] = returns.reversible(f"goods receipt {gr.number}", line.item_id, balances[key],
                                               line.quantity, line.value_amount)
        stock.write_balances(uow, balances)
        stock.add_moves(uow, cancel_date, "goods_receipt", receipt_id, "cancel", [
            stock.Move(line.item_id, wh, -line.quantity, -line.value_amount, line.id) for line in lines])
        conn.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
                     .values(qty_received=PurchaseOrderLine.qty_received - bindparam("v_qty")),
                     [{"k_id": line.purchase_order_line_id, "v_qty": line.quantity} for line in lines])
        conn.execute(update(GoodsReceipt).where(GoodsReceipt.id == receipt_id).values(status=PostedStatus.CANCELLED))
        _refresh_po_status(uow, po_id)
        journal.post_reversal(uow, cancel_date, "goods_receipt", receipt_id, "post")
        doc = Doc(receipt_id, views.goods_receipt(conn, receipt_id))
        uow.commit()
        return doc


@guarded("sales.receipt.cancel")
def cancel_customer_receipt(uow: UnitOfWork, receipt_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Reverse a customer receipt (Dr AR / Cr Bank): its invoice is open again by the amount."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        conn = uow.conn
        invoice_id = conn.scalar(select(CustomerReceipt.customer_invoice_id).where(CustomerReceipt.id == receipt_id))
        if invoice_id is None:
            raise NotFound(f"customer receipt {receipt_id} does not exist")
        inv = conn.execute(locked(select(CustomerInvoice.sales_order_id, CustomerInvoice.amount_paid)
                                  .where(CustomerInvoice.id == invoice_id))).one()
        rct = conn.execute(locked(select(CustomerReceipt.number, CustomerReceipt.status, CustomerReceipt.amount,
                                         CustomerReceipt.receipt_date).where(CustomerReceipt.id == receipt_id))).one()
        transitions.require("customer receipt", "cancel", rct.status, rct.number)
        dates.not_before("cancel_date", cancel_date, f"receipt {rct.number}'s date", rct.receipt_date)
        conn.execute(update(CustomerInvoice).where(CustomerInvoice.id == invoice_id).values(
            amount_paid=inv.amount_paid - rct.amount, status=InvoiceStatus.POSTED))
        conn.execute(update(CustomerReceipt).where(CustomerReceipt.id == receipt_id)
                     .values(status=PostedStatus.CANCELLED))
        _refresh_status(uow, inv.sales_order_id)
        journal.post_reversal(uow, cancel_date, "customer_receipt", receipt_id, "post")
        doc = Doc(receipt_id, views.one(conn, CustomerReceipt, receipt_id, "customer receipt"))
        uow.commit()
        return doc


@guarded("purchase.payment.cancel")
def cancel_supplier_payment(uow: UnitOfWork, payment_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Reverse a supplier payment (Dr Bank / Cr AP): its invoice is open again by the amount."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        conn = uow.conn
        invoice_id = conn.scalar(select(SupplierPayment.supplier_invoice_id).where(SupplierPayment.id == payment_id))
        if invoice_id is None:
            raise NotFound(f"supplier payment {payment_id} does not exist")
        po_id = conn.execute(select(SupplierInvoice.purchase_order_id).where(SupplierInvoice.id == invoice_id)).scalar_one()
        conn.execute(locked(select(PurchaseOrder.id).where(PurchaseOrder.id == po_id))).one()
        inv = conn.execute(locked(select(SupplierInvoice.amount_paid)
                                  .where(SupplierInvoice.id == invoice_id))).one()
        pay = conn.execute(locked(select(SupplierPayment.number, SupplierPayment.status, SupplierPayment.amount,
                                         SupplierPayment.payment_date).where(SupplierPayment.id == payment_id))).one()
        transitions.require("supplier payment", "cancel", pay.status, pay.number)
        dates.not_before("cancel_date", cancel_date, f"payment {pay.number}'s date", pay.payment_date)
        conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id).values(
            amount_paid=inv.amount_paid - pay.amount, status=SupplierInvoiceStatus.MATCHED))
        conn.execute(update(SupplierPayment).where(SupplierPayment.id == payment_id)
                     .values(status=PostedStatus.CANCELLED))
        _refresh_po_status(uow, po_id)
        journal.post_reversal(uow, cancel_date, "supplier_payment", payment_id, "post")
        doc = Doc(payment_id, views.one(conn, SupplierPayment, payment_id, "supplier payment"))
        uow.commit()
        return doc
