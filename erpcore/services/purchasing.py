"""Procure-to-pay services: requisition, purchase order, goods receipt, supplier invoice with three-way
match, payment of matched invoices, cancels."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, select, update

from erpcore.access import guarded
from erpcore.domain import dates, fulfilment, postings, rules, transitions
from erpcore.domain.events import GoodsReceived, PurchaseOrderApproved
from erpcore.domain.money import ZERO, line_amounts, to_cents
from erpcore.domain.status import (
    PostedStatus,
    PurchaseOrderStatus,
    RequisitionStatus,
    SupplierInvoiceStatus,
    purchase_order_status,
)
from erpcore.domain.stock import Balance
from erpcore.exceptions import Conflict, NotFound, ValidationFailed
from erpcore.models import (
    Department,
    GoodsReceipt,
    GoodsReceiptLine,
    Item,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseRequisition,
    Supplier,
    SupplierInvoice,
    SupplierInvoiceLine,
    SupplierPayment,
    TaxCode,
    Warehouse,
)
from erpcore.services import approvals, controls, numbering, views
from erpcore.services.documents import Doc
from erpcore.services.master import default_warehouse_id
from erpcore.services.sql import locked
from erpcore.services.steps import journal, returns, stock
from erpcore.services.steps.matching import match_invoice
from erpcore.services.steps.requisition import raise_requisition
from erpcore.services.unit_of_work import UnitOfWork


@dataclass(frozen=True)
class PurchaseLineInput:
    item_id: int
    quantity: Decimal
    unit_price: Decimal | None = None  # None: the item's standard cost
    requisition_id: int | None = None


@dataclass(frozen=True)
class InvoiceLineInput:
    line_no: int  # purchase order line number
    quantity: Decimal
    unit_price: Decimal


@dataclass(frozen=True)
class SupplierInvoiceResult(Doc):
    """The registered invoice, and why it matched or went on hold."""

    reason: str = ""


@guarded("purchase.requisition.create")
def create_requisition(uow: UnitOfWork, item_id: int, quantity: Decimal, warehouse_id: int | None = None,
                       needed_by: dt.date | None = None) -> Doc:
    """Raise a manual purchase requisition."""
    if quantity <= 0:
        raise ValidationFailed(f"quantity must be positive (got {quantity})")
    with uow:
        if uow.session.get(Item, item_id) is None:
            raise ValidationFailed(f"unknown item {item_id}")
        req_id = raise_requisition(uow, item_id, warehouse_id or default_warehouse_id(uow), quantity, "manual",
                                   needed_by)
        doc = Doc(req_id, views.one(uow.conn, PurchaseRequisition, req_id, "purchase requisition"))
        uow.record("purchase_requisition", doc.row)
        uow.commit()
        return doc


@guarded("purchase.order.create")
@controls.intercepted("purchase_order.create", "purchase_order", id_argument=False)
def create_purchase_order(uow: UnitOfWork, supplier_id: int, lines: Sequence[PurchaseLineInput],
                          warehouse_id: int | None = None, order_date: dt.date | None = None,
                          department_id: int | None = None) -> Doc:
    """Create a draft purchase order; lines may consume open requisitions. With a department, the order must
    fit the department's remaining budget for its month (rule `budget`, stop or warn)."""
    if not lines:
        raise ValidationFailed("a purchase order needs at least one line")
    for n, line in enumerate(lines, 1):
        if line.quantity <= 0:
            raise ValidationFailed(f"line {n}: quantity must be positive (got {line.quantity})")
        if line.unit_price is not None and line.unit_price < 0:
            raise ValidationFailed(f"line {n}: unit price must not be negative")
    order_date = uow.resources.dates.check("order_date", order_date or dt.date.today())
    with uow:
        s = uow.session
        if s.get(Supplier, supplier_id) is None:
            raise ValidationFailed(f"unknown supplier {supplier_id}")
        warehouse_id = warehouse_id or default_warehouse_id(uow)
        if s.get(Warehouse, warehouse_id) is None:
            raise ValidationFailed(f"unknown warehouse {warehouse_id}")
        if department_id is not None and s.get(Department, department_id) is None:
            raise ValidationFailed(f"unknown department {department_id}")
        item_ids = {line.item_id for line in lines}
        items = {r.id: r for r in s.execute(
            select(Item.id, Item.standard_cost, TaxCode.rate).join(TaxCode, Item.tax_code_id == TaxCode.id)
            .where(Item.id.in_(item_ids)))}
        missing = sorted(item_ids - items.keys())
        if missing:
            raise ValidationFailed(f"unknown item(s): {', '.join(map(str, missing))}")
        req_ids = [line.requisition_id for line in lines if line.requisition_id is not None]
        if req_ids:
            open_reqs = set(s.scalars(locked(select(PurchaseRequisition.id).where(
                PurchaseRequisition.id.in_(req_ids), PurchaseRequisition.status == RequisitionStatus.OPEN))))
            if open_reqs != set(req_ids):
                raise Conflict(f"requisition(s) not open: {sorted(set(req_ids) - open_reqs)}")
        rows = []
        for n, line in enumerate(lines, 1):
            item = items[line.item_id]
            price = item.standard_cost if line.unit_price is None else line.unit_price
            net, tax = line_amounts(line.quantity, price, item.rate)
            rows.append({"line_no": n, "item_id": line.item_id, "requisition_id": line.requisition_id,
                         "quantity": line.quantity, "unit_price": price, "tax_rate": item.rate,
                         "net_amount": net, "tax_amount": tax, "qty_received": ZERO, "qty_invoiced": ZERO})
        net_total = sum((r["net_amount"] for r in rows), ZERO)
        controls.enforce(uow, "purchase_order.create", "purchase_order", None, controls.purchase_findings(
            uow, "purchase order", department_id, order_date, net_total))
        po_id = s.execute(insert(PurchaseOrder).values(
            number=numbering.next_number(uow, "purchase_order", order_date.year), supplier_id=supplier_id,
            warehouse_id=warehouse_id, order_date=order_date, status=PurchaseOrderStatus.DRAFT,
            department_id=department_id, created_by=uow.actor.name[:80], net_amount=net_total,
            tax_amount=sum((r["tax_amount"] for r in rows), ZERO),
        ).returning(PurchaseOrder.id)).scalar_one()
        line_ids = s.scalars(insert(PurchaseOrderLine).returning(PurchaseOrderLine.id, sort_by_parameter_order=True),
                             [{**r, "purchase_order_id": po_id} for r in rows]).all()
        for line_id, row in zip(line_ids, rows, strict=True):
            if row["requisition_id"] is not None:
                s.execute(update(PurchaseRequisition).where(PurchaseRequisition.id == row["requisition_id"])
                          .values(status=RequisitionStatus.ORDERED, purchase_order_line_id=line_id))
        doc = Doc(int(po_id), views.purchase_order(uow.conn, po_id))
        uow.record("purchase_order", doc.row)
        uow.commit()
        return doc


def _lock_po(uow: UnitOfWork, po_id: int) -> PurchaseOrder:
    po = uow.session.execute(locked(select(PurchaseOrder).where(PurchaseOrder.id == po_id))).scalar_one_or_none()
    if po is None:
        raise NotFound(f"purchase order {po_id} does not exist")
    return po


@guarded("purchase.order.approve")
@controls.intercepted("purchase_order.approve", "purchase_order")
def approve_purchase_order(uow: UnitOfWork, po_id: int) -> Doc:
    """Approve a draft purchase order, or send it to `pending_approval` when approval rules match it; either
    way it must fit its department's remaining budget."""
    with uow:
        po = _lock_po(uow, po_id)
        transitions.require("purchase order", "approve", po.status, po_id)
        book = controls.rulebook(uow.conn)
        _check_budget(uow, po, book)
        if approvals.submit(uow, book.for_type("purchase_order"), lambda: _facts(uow, po), po_id):
            uow.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po_id).values(
                status=PurchaseOrderStatus.PENDING_APPROVAL))
        else:
            _mark_approved(uow, po)
        doc = Doc(po_id, views.purchase_order(uow.conn, po_id))
        uow.record("purchase_order", doc.row, {"status": po.status})
        uow.commit()
        return doc


@guarded("purchase.order.approve")
@controls.intercepted("purchase_order.decide", "purchase_order")
def decide_purchase_order(uow: UnitOfWork, po_id: int, decision: str, comment: str = "") -> Doc:
    """Record an approver's decision (`approve` or `reject`) on a purchase order pending approval: the last
    step approved approves the order (within budget), a rejection returns it to draft. Its creator is refused."""
    if decision not in ("approve", "reject"):
        raise ValidationFailed(f"decision must be approve or reject (got {decision!r})")
    with uow:
        po = _lock_po(uow, po_id)
        transitions.require("purchase order", "decide", po.status, po_id)
        state = approvals.decide(uow, "purchase_order", po_id, f"purchase order {po.number}", po.created_by,
                                 decision, comment)
        if state.done:
            _check_budget(uow, po)
            _mark_approved(uow, po)
        elif state.rejected:
            uow.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po_id).values(
                status=PurchaseOrderStatus.DRAFT))
        doc = Doc(po_id, {**views.purchase_order(uow.conn, po_id), "approval": state.reason})
        uow.record("purchase_order", doc.row, {"status": po.status})
        uow.commit()
        return doc


def _mark_approved(uow: UnitOfWork, po: PurchaseOrder) -> None:
    uow.session.execute(update(PurchaseOrder).where(PurchaseOrder.id == po.id).values(
        status=PurchaseOrderStatus.APPROVED, approved_at=dt.datetime.now(dt.UTC)))
    uow.emit(PurchaseOrderApproved(po.id, po.number, po.supplier_id, po.net_amount + po.tax_amount))


def _check_budget(uow: UnitOfWork, po: PurchaseOrder, book: controls.Rulebook | None = None) -> None:
    controls.enforce(uow, "purchase_order.approve", "purchase_order", po.id, controls.purchase_findings(
        uow, f"purchase order {po.number}", po.department_id, po.order_date, po.net_amount, book))


def _facts(uow: UnitOfWork, po: PurchaseOrder) -> rules.Facts:
    """What the approval rules look at in a purchase order: amount, supplier, department, item categories."""
    s = uow.session
    categories = s.scalars(select(Item.category).join(PurchaseOrderLine, PurchaseOrderLine.item_id == Item.id)
                           .where(PurchaseOrderLine.purchase_order_id == po.id, Item.category.is_not(None)))
    return rules.Facts("purchase_order", po.net_amount,
                       supplier=s.scalar(select(Supplier.code).where(Supplier.id == po.supplier_id)),
                       department=None if po.department_id is None else s.scalar(
                           select(Department.code).where(Department.id == po.department_id)),
                       categories=frozenset(c for c in categories if c))


@guarded("purchase.order.cancel")
def cancel_purchase_order(uow: UnitOfWork, po_id: int) -> Doc:
    """Cancel a purchase order that has received nothing; its requisitions reopen."""
    with uow:
        s = uow.session
        po = _lock_po(uow, po_id)
        transitions.require("purchase order", "cancel", po.status, po_id)
        line_ids = select(PurchaseOrderLine.id).where(PurchaseOrderLine.purchase_order_id == po_id)
        s.execute(update(PurchaseRequisition).where(PurchaseRequisition.purchase_order_line_id.in_(line_ids))
                  .values(status=RequisitionStatus.OPEN, purchase_order_line_id=None))
        s.execute(update(PurchaseOrder).where(PurchaseOrder.id == po_id).values(status=PurchaseOrderStatus.CANCELLED))
        doc = Doc(po_id, views.purchase_order(uow.conn, po_id))
        uow.record("purchase_order", doc.row, {"status": po.status})
        uow.commit()
        return doc


@guarded("warehouse.receipt.post")
def receive_goods(uow: UnitOfWork, po_id: int, lines: dict[int, Decimal] | None = None,
                  receipt_date: dt.date | None = None) -> Doc:
    """Post a goods receipt: stock in at the PO price (Dr Inventory / Cr GRNI); held invoices re-match.

    `lines` maps PO line numbers to quantities; None receives everything still open.
    """
    receipt_date = uow.resources.dates.check("receipt_date", receipt_date or dt.date.today())
    with uow:
        s = uow.session
        po = _lock_po(uow, po_id)
        transitions.require("purchase order", "receive", po.status, po_id)
        dates.not_before("receipt_date", receipt_date, f"purchase order {po_id}'s date", po.order_date)
        po_lines = {r.line_no: r for r in s.execute(select(
            PurchaseOrderLine.id, PurchaseOrderLine.line_no, PurchaseOrderLine.item_id, PurchaseOrderLine.quantity,
            PurchaseOrderLine.qty_received, PurchaseOrderLine.unit_price).where(
            PurchaseOrderLine.purchase_order_id == po_id))}
        wanted = fulfilment.quantities_to_move(
            f"purchase order {po_id}", {n: fulfilment.OpenLine(r.quantity, r.qty_received) for n, r in po_lines.items()},
            lines, fulfilment.RECEIVING)
        wh = po.warehouse_id
        balances = stock.lock_balances(uow, [(po_lines[n].item_id, wh) for n in wanted])
        rows = []
        for n, q in sorted(wanted.items()):
            line = po_lines[n]
            value = to_cents(q * line.unit_price)
            b = balances[(line.item_id, wh)]
            balances[(line.item_id, wh)] = Balance(b.on_hand + q, b.reserved, b.value + value)
            rows.append({"purchase_order_line_id": line.id, "item_id": line.item_id, "quantity": q,
                         "unit_cost": line.unit_price, "value_amount": value})
        stock.write_balances(uow, balances)
        total = sum((r["value_amount"] for r in rows), ZERO)
        gr_id = s.execute(insert(GoodsReceipt).values(
            number=numbering.next_number(uow, "goods_receipt", receipt_date.year), purchase_order_id=po_id,
            warehouse_id=wh, receipt_date=receipt_date, status=PostedStatus.POSTED, value_amount=total,
        ).returning(GoodsReceipt.id)).scalar_one()
        line_ids = s.scalars(insert(GoodsReceiptLine).returning(GoodsReceiptLine.id, sort_by_parameter_order=True),
                             [{**r, "goods_receipt_id": gr_id} for r in rows]).all()
        stock.add_moves(uow, receipt_date, "goods_receipt", gr_id, "post", [
            stock.Move(r["item_id"], wh, r["quantity"], r["value_amount"], lid)
            for lid, r in zip(line_ids, rows, strict=True)])
        s.connection().execute(
            update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
            .values(qty_received=PurchaseOrderLine.qty_received + bindparam("v_qty")),
            [{"k_id": r["purchase_order_line_id"], "v_qty": r["quantity"]} for r in rows])
        _refresh_po_status(uow, po_id)
        journal.post(uow, receipt_date, "goods_receipt", gr_id, "post", f"Goods receipt for {po.number}",
                    postings.goods_receipt(total))
        uow.emit(GoodsReceived(gr_id, po_id))
        doc = Doc(int(gr_id), views.goods_receipt(uow.conn, gr_id))
        uow.record("goods_receipt", doc.row)
        uow.commit()
        return doc


@guarded("purchase.invoice.post")
def register_supplier_invoice(
    uow: UnitOfWork, po_id: int, supplier_ref: str, lines: Sequence[InvoiceLineInput],
    invoice_date: dt.date | None = None,
) -> SupplierInvoiceResult:
    """Register a supplier invoice against a PO and three-way match it: matched invoices post
    (Dr GRNI + price variance + Input VAT / Cr AP), the others go on hold with the reason."""
    if not lines:
        raise ValidationFailed("a supplier invoice needs at least one line")
    if not supplier_ref.strip():
        raise ValidationFailed("supplier_ref (the supplier's invoice number) is required")
    for line in lines:
        if line.quantity <= 0 or line.unit_price < 0:
            raise ValidationFailed(f"line {line.line_no}: quantity must be positive and price not negative")
    invoice_date = uow.resources.dates.check("invoice_date", invoice_date or dt.date.today())
    with uow:
        s = uow.session
        if s.get(PurchaseOrder, po_id) is None:
            raise ValidationFailed(f"unknown purchase order {po_id}")
        po = _lock_po(uow, po_id)
        transitions.require("purchase order", "invoice", po.status, po_id)
        duplicate = s.scalar(select(SupplierInvoice.id).where(
            SupplierInvoice.supplier_id == po.supplier_id, SupplierInvoice.supplier_ref == supplier_ref))
        if duplicate is not None:
            raise Conflict(f"supplier invoice {supplier_ref!r} of supplier {po.supplier_id} is already registered "
                           f"(id {duplicate})")
        po_lines = {r.line_no: r for r in s.execute(select(
            PurchaseOrderLine.id, PurchaseOrderLine.line_no, PurchaseOrderLine.item_id, PurchaseOrderLine.tax_rate)
            .where(PurchaseOrderLine.purchase_order_id == po_id))}
        rows = []
        for line in lines:
            if line.line_no not in po_lines:
                raise ValidationFailed(f"purchase order {po_id} has no line {line.line_no}")
            pol = po_lines[line.line_no]
            net, tax = line_amounts(line.quantity, line.unit_price, pol.tax_rate)
            rows.append({"purchase_order_line_id": pol.id, "item_id": pol.item_id, "quantity": line.quantity,
                         "unit_price": line.unit_price, "tax_rate": pol.tax_rate, "net_amount": net,
                         "tax_amount": tax})
        net = sum((r["net_amount"] for r in rows), ZERO)
        tax = sum((r["tax_amount"] for r in rows), ZERO)
        terms = s.scalar(select(Supplier.payment_terms_days).where(Supplier.id == po.supplier_id))
        inv_id = int(s.execute(insert(SupplierInvoice).values(
            number=numbering.next_number(uow, "supplier_invoice", invoice_date.year), supplier_id=po.supplier_id,
            supplier_ref=supplier_ref, purchase_order_id=po_id, invoice_date=invoice_date,
            due_date=dates.due_date(invoice_date, terms), status=SupplierInvoiceStatus.ON_HOLD,
            hold_reason="awaiting match", net_amount=net, tax_amount=tax, total_amount=net + tax,
            amount_paid=ZERO, created_by=uow.actor.name[:80],
        ).returning(SupplierInvoice.id)).scalar_one())
        s.execute(insert(SupplierInvoiceLine), [{**r, "supplier_invoice_id": inv_id} for r in rows])
        outcome = match_invoice(uow, inv_id)
        result = SupplierInvoiceResult(inv_id, views.supplier_invoice(uow.conn, inv_id), outcome.reason)
        uow.record("supplier_invoice", result.row)
        uow.commit()
        return result


@guarded("purchase.payment.post")
@controls.intercepted("supplier_invoice.pay", "supplier_invoice")
def pay_supplier_invoice(uow: UnitOfWork, invoice_id: int, amount: Decimal | None = None,
                         payment_date: dt.date | None = None) -> Doc:
    """Pay a matched supplier invoice (Dr AP / Cr Bank); invoices on hold are never paid."""
    payment_date = uow.resources.dates.check("payment_date", payment_date or dt.date.today())
    with uow:
        s = uow.session
        inv = s.execute(locked(select(SupplierInvoice).where(SupplierInvoice.id == invoice_id))).scalar_one_or_none()
        if inv is None:
            raise NotFound(f"supplier invoice {invoice_id} does not exist")
        transitions.require("supplier invoice", "pay", inv.status, invoice_id,
                            f": {inv.hold_reason}" if inv.hold_reason else "")
        dates.not_before("payment_date", payment_date, f"invoice {inv.number}", inv.invoice_date)
        owed = inv.total_amount - returns.debited(uow, invoice_id)  # debit notes settled part of it
        amount = fulfilment.settlement(f"payment of {inv.number}", owed - inv.amount_paid, amount)
        rules.check_not_creator("pay", inv.created_by, uow.actor.name, f"supplier invoice {inv.number}")
        pay_id = s.execute(insert(SupplierPayment).values(
            number=numbering.next_number(uow, "supplier_payment", payment_date.year), supplier_id=inv.supplier_id,
            supplier_invoice_id=invoice_id, payment_date=payment_date, amount=amount, status=PostedStatus.POSTED,
        ).returning(SupplierPayment.id)).scalar_one()
        paid = inv.amount_paid + amount
        s.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id).values(
            amount_paid=paid,
            status=SupplierInvoiceStatus.PAID if paid == owed else SupplierInvoiceStatus.MATCHED))
        _refresh_po_status(uow, inv.purchase_order_id)
        journal.post(uow, payment_date, "supplier_payment", pay_id, "post", f"Payment of {inv.number}",
                    postings.supplier_payment(inv.supplier_id, amount))
        doc = Doc(int(pay_id), views.one(uow.conn, SupplierPayment, pay_id, "supplier payment"))
        uow.record("supplier_payment", doc.row)
        uow.commit()
        return doc


@guarded("purchase.invoice.cancel")
def cancel_supplier_invoice(uow: UnitOfWork, invoice_id: int, cancel_date: dt.date | None = None) -> Doc:
    """Cancel an unpaid supplier invoice; a matched one is reversed in the ledger."""
    cancel_date = uow.resources.dates.check("cancel_date", cancel_date or dt.date.today())
    with uow:
        s = uow.session
        po_id = s.scalar(select(SupplierInvoice.purchase_order_id).where(SupplierInvoice.id == invoice_id))
        if po_id is None:
            raise NotFound(f"supplier invoice {invoice_id} does not exist")
        _lock_po(uow, po_id)
        inv = s.execute(locked(select(SupplierInvoice).where(SupplierInvoice.id == invoice_id))).scalar_one()
        transitions.require("supplier invoice", "cancel", inv.status, invoice_id)
        transitions.require_unpaid("supplier invoice", invoice_id, inv.amount_paid)
        dates.not_before("cancel_date", cancel_date, f"invoice {inv.number}'s date", inv.invoice_date)
        if inv.status == SupplierInvoiceStatus.MATCHED:
            returns.refuse_if_debited(uow, po_id, inv.number)
            lines = s.execute(select(SupplierInvoiceLine.purchase_order_line_id, SupplierInvoiceLine.quantity)
                              .where(SupplierInvoiceLine.supplier_invoice_id == invoice_id)).all()
            s.connection().execute(
                update(PurchaseOrderLine).where(PurchaseOrderLine.id == bindparam("k_id"))
                .values(qty_invoiced=PurchaseOrderLine.qty_invoiced - bindparam("v_qty")),
                [{"k_id": r.purchase_order_line_id, "v_qty": r.quantity} for r in lines])
            journal.post_reversal(uow, cancel_date, "supplier_invoice", invoice_id, "post")
        s.execute(update(SupplierInvoice).where(SupplierInvoice.id == invoice_id)
                  .values(status=SupplierInvoiceStatus.CANCELLED))
        _refresh_po_status(uow, po_id)  # as the forward path does: a PO waiting only on this invoice closes
        doc = Doc(invoice_id, views.supplier_invoice(uow.conn, invoice_id))
        uow.record("supplier_invoice", doc.row, {"status": inv.status})
        uow.commit()
        return doc


def _refresh_po_status(uow: UnitOfWork, po_id: int) -> None:
    s = uow.session
    lines = [(r.quantity, r.qty_received, r.qty_invoiced) for r in s.execute(select(
        PurchaseOrderLine.quantity, PurchaseOrderLine.qty_received, PurchaseOrderLine.qty_invoiced)
        .where(PurchaseOrderLine.purchase_order_id == po_id))]
    unpaid = s.scalar(select(func.count()).select_from(SupplierInvoice).where(
        SupplierInvoice.purchase_order_id == po_id,
        SupplierInvoice.status.in_([SupplierInvoiceStatus.ON_HOLD, SupplierInvoiceStatus.MATCHED])))
    s.execute(update(PurchaseOrder).where(PurchaseOrder.id == po_id)
              .values(status=purchase_order_status(lines, fully_paid=unpaid == 0)))
