"""Three-way match of a held supplier invoice inside a write: at registration, and again on goods receipt."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, select, update

from erpcore.domain import postings
from erpcore.domain.events import SupplierInvoiceHeld
from erpcore.domain.matching import MatchLine, three_way_match
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.status import SupplierInvoiceStatus
from erpcore.models import Item, PurchaseOrderLine, SupplierInvoice, SupplierInvoiceLine
from erpcore.services.sql import locked
from erpcore.services.steps import journal
from erpcore.services.unit_of_work import UnitOfWork


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
        SupplierInvoiceLine.quantity, SupplierInvoiceLine.unit_price, PurchaseOrderLine.id.label("pol_id"),
        PurchaseOrderLine.line_no, PurchaseOrderLine.unit_price.label("po_price"), PurchaseOrderLine.qty_received,
        PurchaseOrderLine.qty_invoiced, Item.sku)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == SupplierInvoiceLine.purchase_order_line_id)
        .join(Item, Item.id == PurchaseOrderLine.item_id)
        .where(SupplierInvoiceLine.supplier_invoice_id == invoice_id)).all()
    result = three_way_match([MatchLine(r.line_no, r.sku, r.po_price, r.qty_received, r.qty_invoiced, r.quantity,
                                        r.unit_price) for r in rows], uow.resources.tolerances)
    if not result.matched:
        if inv.hold_reason != result.reason:
            conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id)
                         .values(hold_reason=result.reason))
            uow.emit(SupplierInvoiceHeld(invoice_id, result.reason))
        return MatchOutcome(invoice_id, SupplierInvoiceStatus.ON_HOLD, result.reason)
    grni = sum((to_cents(r.quantity * r.po_price) for r in rows), ZERO)
    conn.execute(
        update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
        .values(qty_invoiced=PurchaseOrderLine.qty_invoiced + bindparam("v_qty")),
        [{"k_id": r.pol_id, "v_qty": r.quantity} for r in rows])
    conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id).values(
        status=SupplierInvoiceStatus.MATCHED, hold_reason=None, matched_at=dt.datetime.now(dt.UTC)))
    journal.post(uow, inv.invoice_date, "supplier_invoice", invoice_id, "post",
                 f"Supplier invoice {inv.supplier_ref} ({inv.number})",
                 postings.supplier_invoice(inv.supplier_id, grni, inv.net_amount, inv.tax_amount))
    return MatchOutcome(invoice_id, SupplierInvoiceStatus.MATCHED, result.reason)
