"""Returns: a customer sends goods back from a shipment (stock in at the cost they left with, a credit note at
the invoiced price), and goods go back to a supplier from a goods receipt (stock out at receipt cost, GRNI
cleared for what was not billed, a debit note for what was). A note settles the invoice it corrects as far as
that invoice is still owed, and the rest is refunded, so it never stays an open item of its own.

Each service locks, in this order: the order's header, the source document, its lines (by id: what they have
had returned is summed from the return lines under that lock, so two returns of one line never both pass),
the invoice the note settles, the stock balances, and the document number last.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update

from erpcore.access import guarded
from erpcore.domain import dates, postings, returns, transitions
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.status import InvoiceStatus, PostedStatus, SupplierInvoiceStatus
from erpcore.domain.stock import Balance
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import (
    CustomerInvoice,
    CustomerInvoiceLine,
    CustomerReturn,
    CustomerReturnLine,
    GoodsReceipt,
    GoodsReceiptLine,
    PurchaseOrder,
    PurchaseOrderLine,
    SalesOrder,
    Shipment,
    ShipmentLine,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierReturn,
    SupplierReturnLine,
)
from erpcore.services import numbering, views
from erpcore.services.documents import Doc
from erpcore.services.purchasing import _refresh_po_status as refresh_po_status
from erpcore.services.sales import _refresh_status as refresh_order_status
from erpcore.services.sql import locked
from erpcore.services.steps import journal, stock
from erpcore.services.steps import returns as returns_step
from erpcore.services.unit_of_work import UnitOfWork


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def customer_return(source: views.Source, return_id: int) -> dict[str, Any]:
    return views.document(source, CustomerReturn, CustomerReturnLine, CustomerReturnLine.customer_return_id,
                          return_id, "customer return")


def supplier_return(source: views.Source, return_id: int) -> dict[str, Any]:
    return views.document(source, SupplierReturn, SupplierReturnLine, SupplierReturnLine.supplier_return_id,
                          return_id, "supplier return")


# --- customer returns -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Shipped:
    """A shipment line with what its invoice billed and what earlier returns took back and credited."""

    line: Any  # the locked source line's row
    source: returns.Source
    invoice_id: int | None
    invoice_line_id: int | None
    invoiced: returns.Source  # invoiced quantity, credited so far
    cost: returns.Shared
    net: returns.Shared
    tax: returns.Shared


def _shipped_lines(uow: UnitOfWork, shipment_id: int) -> dict[int, _Shipped]:
    conn = uow.conn
    lines = conn.execute(locked(select(
        ShipmentLine.id, ShipmentLine.item_id, ShipmentLine.quantity, ShipmentLine.cost_amount)
        .where(ShipmentLine.shipment_id == shipment_id).order_by(ShipmentLine.id))).all()
    ids = [line.id for line in lines]
    back = {r.shipment_line_id: r for r in conn.execute(select(
        CustomerReturnLine.shipment_line_id, func.sum(CustomerReturnLine.quantity).label("qty"),
        func.sum(CustomerReturnLine.cost_amount).label("cost"), func.sum(CustomerReturnLine.net_amount).label("net"),
        func.sum(CustomerReturnLine.tax_amount).label("tax"))
        .join(CustomerReturn, CustomerReturn.id == CustomerReturnLine.customer_return_id)
        .where(CustomerReturnLine.shipment_line_id.in_(ids), CustomerReturn.status == PostedStatus.POSTED)
        .group_by(CustomerReturnLine.shipment_line_id))}
    billed = {r.shipment_line_id: r for r in conn.execute(select(
        CustomerInvoiceLine.shipment_line_id, func.max(CustomerInvoiceLine.id).label("line_id"),
        func.max(CustomerInvoiceLine.customer_invoice_id).label("invoice_id"),
        func.sum(CustomerInvoiceLine.quantity).label("qty"), func.sum(CustomerInvoiceLine.net_amount).label("net"),
        func.sum(CustomerInvoiceLine.tax_amount).label("tax"))
        .join(CustomerInvoice, CustomerInvoice.id == CustomerInvoiceLine.customer_invoice_id)
        .where(CustomerInvoiceLine.shipment_line_id.in_(ids),
               CustomerInvoice.status.in_([InvoiceStatus.POSTED, InvoiceStatus.PAID]))
        .group_by(CustomerInvoiceLine.shipment_line_id))}
    out = {}
    for line in lines:
        b, i = back.get(line.id), billed.get(line.id)
        returned = Decimal(b.qty) if b else ZERO
        out[line.id] = _Shipped(
            line, returns.Source(line.quantity, returned), i.invoice_id if i else None, i.line_id if i else None,
            returns.Source(Decimal(i.qty) if i else ZERO, returned),
            returns.Shared(line.cost_amount, Decimal(b.cost) if b else ZERO),
            returns.Shared(Decimal(i.net) if i else ZERO, Decimal(b.net) if b else ZERO),
            returns.Shared(Decimal(i.tax) if i else ZERO, Decimal(b.tax) if b else ZERO))
    return out


@guarded("sales.return.write")
def create_customer_return(uow: UnitOfWork, shipment_id: int, lines: Mapping[int, Decimal] | None = None,
                           return_date: dt.date | None = None) -> Doc:
    """Take goods back from a shipment: stock in at the cost it left with (Dr Inventory / Cr COGS) and a credit
    note at the invoiced price (Dr Revenue + Output VAT / Cr AR).

    `lines` maps shipment line ids to quantities; None returns everything still returnable. A line returns at
    most what it shipped minus earlier returns, and only what was invoiced (422 otherwise, nothing written).
    """
    return_date = uow.resources.dates.check("return_date", return_date or dt.date.today())
    with uow:
        conn = uow.conn
        order_id = conn.scalar(select(Shipment.sales_order_id).where(Shipment.id == shipment_id))
        if order_id is None:
            raise NotFound(f"shipment {shipment_id} does not exist")
        order = conn.execute(locked(select(SalesOrder.id, SalesOrder.customer_id)
                                    .where(SalesOrder.id == order_id))).one()
        shp = conn.execute(locked(select(Shipment.number, Shipment.status, Shipment.ship_date, Shipment.warehouse_id)
                                  .where(Shipment.id == shipment_id))).one()
        transitions.require("shipment", "return", shp.status, shp.number)
        dates.not_before("return_date", return_date, f"shipment {shp.number}", shp.ship_date)
        shipped = _shipped_lines(uow, shipment_id)
        wanted = returns.quantities_to_return(f"shipment {shp.number}",
                                              {k: v.source for k, v in shipped.items()}, lines)
        wh = shp.warehouse_id
        rows = []
        for line_id, qty in sorted(wanted.items()):
            s = shipped[line_id]
            returns.require_invoiced(line_id, s.invoiced.quantity, s.invoiced.returned, qty)
            rows.append({"shipment_line_id": line_id, "customer_invoice_line_id": s.invoice_line_id,
                         "item_id": s.line.item_id, "quantity": qty,
                         "cost_amount": returns.share(s.cost, s.source, qty),
                         "net_amount": returns.share(s.net, s.invoiced, qty),
                         "tax_amount": returns.share(s.tax, s.invoiced, qty)})
        invoice = _credited_invoice(uow, {shipped[line_id].invoice_id for line_id in wanted})
        prices = {r.id: r for r in conn.execute(select(
            CustomerInvoiceLine.id, CustomerInvoiceLine.unit_price, CustomerInvoiceLine.tax_rate,
            CustomerInvoiceLine.discount_percent).where(
            CustomerInvoiceLine.id.in_([r["customer_invoice_line_id"] for r in rows])))}
        for r in rows:
            p = prices[r["customer_invoice_line_id"]]
            r.update(unit_price=p.unit_price, tax_rate=p.tax_rate, discount_percent=p.discount_percent)
        balances = stock.lock_balances(uow, [(r["item_id"], wh) for r in rows])
        for r in rows:
            b = balances[(r["item_id"], wh)]
            balances[(r["item_id"], wh)] = Balance(b.on_hand + r["quantity"], b.reserved, b.value + r["cost_amount"])
        stock.write_balances(uow, balances)
        cost, net, tax = (sum((r[k] for r in rows), ZERO) for k in ("cost_amount", "net_amount", "tax_amount"))
        still_owed = invoice.total_amount - invoice.amount_paid - returns_step.credited(uow, invoice.id)
        applied, refund = returns.settle(net + tax, still_owed)
        if invoice.status == InvoiceStatus.POSTED and applied == still_owed:  # the credit note settles it
            conn.execute(update(CustomerInvoice).where(CustomerInvoice.id == invoice.id)
                         .values(status=InvoiceStatus.PAID))
            refresh_order_status(uow, order_id)
        return_id = int(conn.execute(insert(CustomerReturn).values(
            number=numbering.next_number(uow, "customer_return", return_date.year), customer_id=order.customer_id,
            shipment_id=shipment_id, sales_order_id=order_id, customer_invoice_id=invoice.id, warehouse_id=wh,
            return_date=return_date, status=PostedStatus.POSTED, cost_amount=cost, net_amount=net, tax_amount=tax,
            total_amount=net + tax, refund_amount=refund, created_at=_now()).returning(CustomerReturn.id)).scalar_one())
        line_ids = conn.execute(insert(CustomerReturnLine).returning(
            CustomerReturnLine.id, sort_by_parameter_order=True),
            [{**r, "customer_return_id": return_id} for r in rows]).scalars().all()
        stock.add_moves(uow, return_date, "customer_return", return_id, "post", [
            stock.Move(r["item_id"], wh, r["quantity"], r["cost_amount"], lid)
            for lid, r in zip(line_ids, rows, strict=True)])
        journal.post(uow, return_date, "customer_return", return_id, "post",
                     f"Customer return and credit note for shipment {shp.number}",
                     postings.customer_return(order.customer_id, cost, net, tax, refund))
        doc = Doc(return_id, customer_return(conn, return_id))
        uow.commit()
        return doc


def _credited_invoice(uow: UnitOfWork, invoice_ids: set[int | None]) -> Any:
    """The one customer invoice the returned lines were billed on, locked (a return credits one invoice)."""
    if len(invoice_ids) != 1 or None in invoice_ids:
        raise ValidationFailed("a return credits one invoice: return the lines of each invoice separately")
    return uow.conn.execute(locked(select(
        CustomerInvoice.id, CustomerInvoice.status, CustomerInvoice.total_amount, CustomerInvoice.amount_paid)
        .where(CustomerInvoice.id == invoice_ids.pop()))).one()


# --- supplier returns -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Received:
    """A goods receipt line, what earlier returns took back of it, and its PO line's billing position."""

    line: Any  # the locked source line's row
    source: returns.Source
    value: returns.Shared
    unbilled: Decimal  # the PO line's received quantity not invoiced yet
    billed: returns.Source  # billed quantity, debited so far
    billed_net: returns.Shared
    billed_tax: returns.Shared


def _received_lines(uow: UnitOfWork, receipt_id: int) -> dict[int, _Received]:
    conn = uow.conn
    lines = conn.execute(locked(select(
        GoodsReceiptLine.id, GoodsReceiptLine.purchase_order_line_id, GoodsReceiptLine.item_id,
        GoodsReceiptLine.quantity, GoodsReceiptLine.value_amount)
        .where(GoodsReceiptLine.goods_receipt_id == receipt_id).order_by(GoodsReceiptLine.id))).all()
    pol_ids = [line.purchase_order_line_id for line in lines]
    posted = SupplierReturn.status == PostedStatus.POSTED
    back = {r.goods_receipt_line_id: r for r in conn.execute(select(
        SupplierReturnLine.goods_receipt_line_id, func.sum(SupplierReturnLine.quantity).label("qty"),
        func.sum(SupplierReturnLine.value_amount).label("value"))
        .join(SupplierReturn, SupplierReturn.id == SupplierReturnLine.supplier_return_id)
        .where(SupplierReturnLine.goods_receipt_line_id.in_([line.id for line in lines]), posted)
        .group_by(SupplierReturnLine.goods_receipt_line_id))}
    debited = {r.purchase_order_line_id: r for r in conn.execute(select(
        SupplierReturnLine.purchase_order_line_id,
        func.sum(SupplierReturnLine.quantity - SupplierReturnLine.qty_unbilled).label("qty"),
        func.sum(SupplierReturnLine.net_amount).label("net"), func.sum(SupplierReturnLine.tax_amount).label("tax"))
        .join(SupplierReturn, SupplierReturn.id == SupplierReturnLine.supplier_return_id)
        .where(SupplierReturnLine.purchase_order_line_id.in_(pol_ids), posted)
        .group_by(SupplierReturnLine.purchase_order_line_id))}
    billed = {r.purchase_order_line_id: r for r in conn.execute(select(
        SupplierInvoiceLine.purchase_order_line_id, func.sum(SupplierInvoiceLine.quantity).label("qty"),
        func.sum(SupplierInvoiceLine.net_amount).label("net"), func.sum(SupplierInvoiceLine.tax_amount).label("tax"))
        .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.supplier_invoice_id)
        .where(SupplierInvoiceLine.purchase_order_line_id.in_(pol_ids),
               SupplierInvoice.status.in_([SupplierInvoiceStatus.MATCHED, SupplierInvoiceStatus.PAID]))
        .group_by(SupplierInvoiceLine.purchase_order_line_id))}
    po_lines = {r.id: r for r in conn.execute(select(
        PurchaseOrderLine.id, PurchaseOrderLine.qty_received, PurchaseOrderLine.qty_invoiced)
        .where(PurchaseOrderLine.id.in_(pol_ids)))}
    out = {}
    for line in lines:
        b, d, i = back.get(line.id), debited.get(line.purchase_order_line_id), billed.get(line.purchase_order_line_id)
        pol = po_lines[line.purchase_order_line_id]
        billed_qty = returns.Source(Decimal(i.qty) if i else ZERO, Decimal(d.qty) if d else ZERO)
        out[line.id] = _Received(
            line, returns.Source(line.quantity, Decimal(b.qty) if b else ZERO),
            returns.Shared(line.value_amount, Decimal(b.value) if b else ZERO),
            pol.qty_received - pol.qty_invoiced, billed_qty,
            returns.Shared(Decimal(i.net) if i else ZERO, Decimal(d.net) if d else ZERO),
            returns.Shared(Decimal(i.tax) if i else ZERO, Decimal(d.tax) if d else ZERO))
    return out


def _supplier_line(r: _Received, qty: Decimal) -> dict[str, Any]:
    """One return line's quantities and amounts, before the stock it leaves is valued."""
    at_cost = returns.share(r.value, r.source, qty)
    unbilled, billed = returns.split_billed(qty, r.unbilled)
    grni = at_cost if billed == 0 else to_cents(at_cost * unbilled / qty)
    net = returns.share(r.billed_net, r.billed, billed) if billed else ZERO
    tax = returns.share(r.billed_tax, r.billed, billed) if billed else ZERO
    return {"goods_receipt_line_id": r.line.id, "purchase_order_line_id": r.line.purchase_order_line_id,
            "item_id": r.line.item_id, "quantity": qty, "qty_unbilled": unbilled, "value_amount": at_cost,
            "grni_amount": grni, "net_amount": net, "tax_amount": tax}


def _settle_debit_note(uow: UnitOfWork, billed_po_lines: list[int], note: Decimal) -> tuple[int | None, Decimal]:
    """The debit note settles the latest invoice that billed the returned goods (locked), as far as it is still
    owed; the supplier refunds the rest. Returns (that invoice, the refund); (None, 0) when nothing was billed."""
    if not billed_po_lines:
        return None, ZERO
    conn = uow.conn
    invoice_id = conn.scalar(select(func.max(SupplierInvoiceLine.supplier_invoice_id))
                             .join(SupplierInvoice, SupplierInvoice.id == SupplierInvoiceLine.supplier_invoice_id)
                             .where(SupplierInvoiceLine.purchase_order_line_id.in_(billed_po_lines),
                                    SupplierInvoice.status.in_([SupplierInvoiceStatus.MATCHED,
                                                                SupplierInvoiceStatus.PAID])))
    if invoice_id is None:
        return None, note
    inv = conn.execute(locked(select(SupplierInvoice.status, SupplierInvoice.total_amount, SupplierInvoice.amount_paid)
                              .where(SupplierInvoice.id == invoice_id))).one()
    still_owed = inv.total_amount - inv.amount_paid - returns_step.debited(uow, invoice_id)
    applied, refund = returns.settle(note, still_owed)
    if inv.status == SupplierInvoiceStatus.MATCHED and applied == still_owed:  # the debit note settles it
        conn.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id)
                     .values(status=SupplierInvoiceStatus.PAID))
    return int(invoice_id), refund


@guarded("purchase.return.write")
def create_supplier_return(uow: UnitOfWork, receipt_id: int, lines: Mapping[int, Decimal] | None = None,
                           return_date: dt.date | None = None) -> Doc:
    """Send goods back to the supplier from a goods receipt: stock out at receipt cost; what was not billed yet
    clears GRNI and leaves the PO line's received quantity; what was billed goes on a debit note (Dr AP /
    Cr Input VAT at the billed price, the difference to receipt cost a price variance).

    `lines` maps goods receipt line ids to quantities; None returns everything still returnable.
    """
    return_date = uow.resources.dates.check("return_date", return_date or dt.date.today())
    with uow:
        conn = uow.conn
        po_id = conn.scalar(select(GoodsReceipt.purchase_order_id).where(GoodsReceipt.id == receipt_id))
        if po_id is None:
            raise NotFound(f"goods receipt {receipt_id} does not exist")
        po = conn.execute(locked(select(PurchaseOrder.id, PurchaseOrder.supplier_id)
                                 .where(PurchaseOrder.id == po_id))).one()
        gr = conn.execute(locked(select(GoodsReceipt.number, GoodsReceipt.status, GoodsReceipt.receipt_date,
                                        GoodsReceipt.warehouse_id).where(GoodsReceipt.id == receipt_id))).one()
        transitions.require("goods receipt", "return", gr.status, gr.number)
        dates.not_before("return_date", return_date, f"goods receipt {gr.number}", gr.receipt_date)
        received = _received_lines(uow, receipt_id)
        wanted = returns.quantities_to_return(f"goods receipt {gr.number}",
                                              {k: v.source for k, v in received.items()}, lines)
        rows = [_supplier_line(received[line_id], qty) for line_id, qty in sorted(wanted.items())]
        wh = gr.warehouse_id
        balances = stock.lock_balances(uow, [(r["item_id"], wh) for r in rows])
        for r in rows:
            b = balances[(r["item_id"], wh)]
            r["stock_value"] = returns.stock_out(f"goods receipt {gr.number}", r["item_id"], b, r["quantity"],
                                                 r["value_amount"])
            balances[(r["item_id"], wh)] = Balance(b.on_hand - r["quantity"], b.reserved, b.value - r["stock_value"])
        stock.write_balances(uow, balances)
        unbilled = [{"k_id": r["purchase_order_line_id"], "v_qty": r["qty_unbilled"]} for r in rows if r["qty_unbilled"]]
        if unbilled:
            conn.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
                         .values(qty_received=PurchaseOrderLine.qty_received - bindparam("v_qty")), unbilled)
        total = {k: sum((r[k] for r in rows), ZERO)
                 for k in ("value_amount", "stock_value", "grni_amount", "net_amount", "tax_amount")}
        note = total["net_amount"] + total["tax_amount"]
        invoice_id, refund = _settle_debit_note(uow, [r["purchase_order_line_id"] for r in rows
                                                      if r["quantity"] > r["qty_unbilled"]], note)
        if unbilled or invoice_id is not None:
            refresh_po_status(uow, po_id)
        return_id = int(conn.execute(insert(SupplierReturn).values(
            number=numbering.next_number(uow, "supplier_return", return_date.year), supplier_id=po.supplier_id,
            goods_receipt_id=receipt_id, purchase_order_id=po_id, supplier_invoice_id=invoice_id, warehouse_id=wh,
            return_date=return_date, status=PostedStatus.POSTED, **total, total_amount=note, refund_amount=refund,
            created_at=_now()).returning(SupplierReturn.id)).scalar_one())
        line_ids = conn.execute(insert(SupplierReturnLine).returning(
            SupplierReturnLine.id, sort_by_parameter_order=True),
            [{**r, "supplier_return_id": return_id} for r in rows]).scalars().all()
        stock.add_moves(uow, return_date, "supplier_return", return_id, "post", [
            stock.Move(r["item_id"], wh, -r["quantity"], -r["stock_value"], lid)
            for lid, r in zip(line_ids, rows, strict=True)])
        journal.post(uow, return_date, "supplier_return", return_id, "post",
                     f"Return to supplier from goods receipt {gr.number}",
                     postings.supplier_return(po.supplier_id, total["stock_value"], total["grni_amount"],
                                              total["net_amount"], total["tax_amount"], refund))
        doc = Doc(return_id, supplier_return(conn, return_id))
        uow.commit()
        return doc



def recent(source: views.Source, model: Any, limit: int, **equals: int | None) -> list[dict[str, Any]]:
    """The newest returns first (headers only), filtered by the given columns."""
    stmt = select(*model.__table__.columns)
    for name, value in equals.items():
        if value is not None:
            stmt = stmt.where(getattr(model, name) == value)
    with views.connected(source) as conn:
        return [dict(r) for r in conn.execute(stmt.order_by(model.id.desc()).limit(limit)).mappings()]
