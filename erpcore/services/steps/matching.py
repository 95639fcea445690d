"""Three-way match of a held supplier invoice inside a write: at registration, and again on goods receipt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import aliased

from erpcore.domain import postings
from erpcore.domain.events import SupplierInvoiceHeld, SupplierInvoiceMatched
from erpcore.domain.matching import MatchLine, ReceivedLine, grni_to_clear, three_way_match
from erpcore.domain.money import ZERO
from erpcore.domain.status import PostedStatus, SupplierInvoiceStatus
from erpcore.models import (
    GoodsReceipt,
    GoodsReceiptLine,
    Item,
    PurchaseOrderLine,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierReturn,
    SupplierReturnLine,
)
from erpcore.services.sql import locked
from erpcore.services.steps import journal
from erpcore.services.unit_of_work import UnitOfWork

_BILLED = aliased(SupplierInvoiceLine)
# per PO line: its received value at receipt cost, and the GRNI matched invoices cleared of it so far
_VALUE_RECEIVED = ((select(func.coalesce(func.sum(GoodsReceiptLine.value_amount), 0))
                    .join(GoodsReceipt, GoodsReceipt.id == GoodsReceiptLine.goods_receipt_id)
                    .where(GoodsReceiptLine.purchase_order_line_id == PurchaseOrderLine.id,
                           GoodsReceipt.status == PostedStatus.POSTED).scalar_subquery()
                    # less the GRNI that goods sent back before they were billed took with them
                    - select(func.coalesce(func.sum(SupplierReturnLine.grni_amount), 0))
                    .join(SupplierReturn, SupplierReturn.id == SupplierReturnLine.supplier_return_id)
                    .where(SupplierReturnLine.purchase_order_line_id == PurchaseOrderLine.id,
                           SupplierReturn.status == PostedStatus.POSTED).scalar_subquery())
                   .label("value_received"))
_GRNI_CLEARED = (select(func.coalesce(func.sum(_BILLED.grni_amount), 0))
                 .join(SupplierInvoice, SupplierInvoice.id == _BILLED.supplier_invoice_id)
                 .where(_BILLED.purchase_order_line_id == PurchaseOrderLine.id,
                        SupplierInvoice.status.in_([SupplierInvoiceStatus.MATCHED, SupplierInvoiceStatus.PAID]))
                 .scalar_subquery().label("grni_cleared"))


@dataclass(frozen=True)
class MatchOutcome:
    """What the match decided for one invoice, and why."""

    invoice_id: int
    status: SupplierInvoiceStatus
    reason: str


def match_invoice(uow: UnitOfWork, invoice_id: int) -> MatchOutcome:
    """Three-way match one held invoice in the open unit of work; post it when it matches."""
    conn = uow.conn
    inv = conn.execute(locked(select(
        SupplierInvoice.id, SupplierInvoice.status, SupplierInvoice.hold_reason, SupplierInvoice.invoice_date,
        SupplierInvoice.supplier_ref, SupplierInvoice.number, SupplierInvoice.supplier_id,
        SupplierInvoice.net_amount, SupplierInvoice.tax_amount).where(SupplierInvoice.id == invoice_id))).one()
    if inv.status != SupplierInvoiceStatus.ON_HOLD:
        return MatchOutcome(inv.id, SupplierInvoiceStatus(inv.status), inv.hold_reason or "already matched")
    rows = conn.execute(select(
        SupplierInvoiceLine.id, SupplierInvoiceLine.quantity, SupplierInvoiceLine.unit_price,
        PurchaseOrderLine.id.label("pol_id"), PurchaseOrderLine.line_no, PurchaseOrderLine.unit_price.label("po_price"),
        PurchaseOrderLine.qty_received, PurchaseOrderLine.qty_invoiced, Item.sku, _VALUE_RECEIVED, _GRNI_CLEARED)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == SupplierInvoiceLine.purchase_order_line_id)
        .join(Item, Item.id == PurchaseOrderLine.item_id)
        .where(SupplierInvoiceLine.supplier_invoice_id == invoice_id).order_by(SupplierInvoiceLine.id)).all()
    result = three_way_match([MatchLine(r.line_no, r.sku, r.po_price, r.qty_received, r.qty_invoiced, r.quantity,
                                        r.unit_price) for r in rows], uow.resources.tolerances)
    if not result.matched:
        if inv.hold_reason != result.reason:
            conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id)
                         .values(hold_reason=result.reason))
            uow.emit(SupplierInvoiceHeld(invoice_id, result.reason))
        return MatchOutcome(invoice_id, SupplierInvoiceStatus.ON_HOLD, result.reason)
    received = {r.pol_id: ReceivedLine(r.qty_received, Decimal(r.value_received), r.qty_invoiced,
                                       Decimal(r.grni_cleared)) for r in rows}
    cleared = []
    for r in rows:  # in line order: two lines of one PO line clear its GRNI one after the other
        line = received[r.pol_id]
        amount = grni_to_clear(line, r.quantity)
        received[r.pol_id] = replace(line, qty_billed=line.qty_billed + r.quantity,
                                     grni_cleared=line.grni_cleared + amount)
        cleared.append({"k_id": r.id, "v_grni": amount})
    conn.execute(update(SupplierInvoiceLine).where(SupplierInvoiceLine.id == bindparam("k_id"))
                 .values(grni_amount=bindparam("v_grni")), cleared)
    grni = sum((c["v_grni"] for c in cleared), ZERO)
    conn.execute(
        update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
        .values(qty_invoiced=PurchaseOrderLine.qty_invoiced + bindparam("v_qty")),
        [{"k_id": r.pol_id, "v_qty": r.quantity} for r in rows])
    conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id).values(
        status=SupplierInvoiceStatus.MATCHED, hold_reason=None, matched_at=dt.datetime.now(dt.UTC)))
    journal.post(uow, inv.invoice_date, "supplier_invoice", invoice_id, "post",
                 f"Supplier invoice {inv.supplier_ref} ({inv.number})",
                 postings.supplier_invoice(inv.supplier_id, grni, inv.net_amount, inv.tax_amount))
    uow.emit(SupplierInvoiceMatched(invoice_id, inv.number, inv.net_amount + inv.tax_amount))
    return MatchOutcome(invoice_id, SupplierInvoiceStatus.MATCHED, result.reason)
