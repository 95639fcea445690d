"""Seeded procure-to-pay: requisitions, purchase orders, goods receipts, matched supplier invoices, payments.

Each step writes the rows services.purchasing and its automation handlers write for the same event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal

from erpcore.domain import postings
from erpcore.domain.matching import MatchLine, Tolerances, three_way_match
from erpcore.domain.replenishment import Position, to_requisition
from erpcore.domain.status import (
    PostedStatus,
    PurchaseOrderStatus,
    RequisitionStatus,
    SupplierInvoiceStatus,
    purchase_order_status,
)
from erpcore.domain.stock import below_safety
from erpcore.seeding import ledger, returns
from erpcore.seeding.context import Agenda, Context, iso, workday_on_or_after
from erpcore.seeding.rows import half_up, money

PARTIAL_RECEIPTS = 0.12  # share of purchase orders delivered in two parts
PRICE_DEVIATION = 0.15  # share of supplier invoice lines priced off the PO price (within tolerance)
DRIFT_PER_YEAR = 0.025  # purchase prices creep up


@dataclass(slots=True)
class Requisition:
    id: int
    number: str
    item: int
    quantity: int
    needed_by: str
    reason: str
    sales_order_line_id: int | None
    created: str
    status: str = RequisitionStatus.OPEN
    po_line: PoLine | None = None


@dataclass(slots=True)
class PoLine:
    id: int
    line_no: int
    item: int
    requisition_id: int | None
    quantity: int
    price: int
    net: int
    tax: int
    received: int = 0
    invoiced: int = 0


@dataclass(slots=True)
class PurchaseOrder:
    id: int
    number: str
    supplier: int
    date: str
    created: str
    lines: list[PoLine]
    net: int
    tax: int
    status: str = PurchaseOrderStatus.APPROVED
    unpaid: int = 0


@dataclass(slots=True)
class SupplierInvoice:
    id: int
    number: str
    ref: str
    po: PurchaseOrder
    date: str
    due: str
    net: int
    tax: int
    created: str
    paid: int = 0


@dataclass
class Buying:
    """Procurement state: open requisitions, what is coming per item, supplier refs."""

    open_requisitions: list[Requisition] = field(default_factory=list)
    # per item: what is coming (PO lines not received yet, open requisitions not earmarked for a shortage),
    # the supply steps.requisition.replenish counts
    coming: dict[int, int] = field(default_factory=dict)
    supplier_refs: dict[int, int] = field(default_factory=dict)
    tolerances: Tolerances = field(default_factory=Tolerances)


def raise_requisition(ctx: Context, buying: Buying, item: int, quantity: int, reason: str,
                      sales_order_line_id: int | None = None) -> Requisition:
    """purchasing.raise_requisition: open, needed a week from today, numbered in that week's year."""
    needed_by = iso(ctx.day + 7)
    req = Requisition(ctx.ids["purchase_requisition"](), ctx.number("purchase_requisition", int(needed_by[:4])),
                      item, quantity, needed_by, reason, sales_order_line_id, ctx.stamp())
    buying.open_requisitions.append(req)
    if sales_order_line_id is None:
        buying.coming[item] = buying.coming.get(item, 0) + quantity
    return req


def check_safety_stock(ctx: Context, buying: Buying, item: int) -> None:
    """handlers.requisition_below_safety: free stock under the safety level and what is coming not lifting it
    back (domain.replenishment.to_requisition) raises a requisition."""
    spec = ctx.items[item]
    if not below_safety(Decimal(ctx.on_hand[item]), Decimal(ctx.reserved[item]), Decimal(spec.safety)):
        return
    position = Position(Decimal(ctx.on_hand[item]), Decimal(ctx.reserved[item]),
                        requisitioned=Decimal(buying.coming.get(item, 0)))
    quantity = to_requisition(position, Decimal(spec.safety), Decimal(spec.reorder)).quantity
    if quantity > 0:
        raise_requisition(ctx, buying, item, int(quantity), "safety_stock")


def purchase_price(ctx: Context, item: int) -> int:
    """Today's negotiated price: the standard cost drifting up over the years, with a little noise."""
    years = (ctx.day - ctx.start) / 365.25
    factor = 1 + DRIFT_PER_YEAR * years + ctx.rng.uniform(-0.03, 0.03)
    return max(1, int(ctx.items[item].cost * factor))


def order_requisitions(ctx: Context, buying: Buying) -> None:
    """The buyer's daily run: every open requisition onto one approved purchase order per supplier."""
    if not buying.open_requisitions:
        return
    by_supplier: dict[int, list[Requisition]] = {}
    for req in buying.open_requisitions:
        by_supplier.setdefault(ctx.items[req.item].supplier, []).append(req)
    buying.open_requisitions = []
    for supplier in sorted(by_supplier):
        reqs = by_supplier[supplier]
        po = create_order(ctx, buying, supplier, [(r.item, r.quantity, r.id) for r in reqs])
        for req in reqs:  # no longer requisitioned: on order now
            if req.sales_order_line_id is None:
                buying.coming[req.item] -= req.quantity
        for req, line in zip(reqs, po.lines, strict=True):
            req.status = RequisitionStatus.ORDERED
            req.po_line = line
            _emit_requisition(ctx, req)


def create_order(ctx: Context, buying: Buying, supplier: int, wanted: list[tuple[int, int, int | None]],
                 opening: bool = False) -> PurchaseOrder:
    """An approved purchase order for (item, quantity, requisition id) lines; its delivery is scheduled.

    The opening stock (`opening`) arrives in full on the day it is ordered.
    """
    po_id = ctx.ids["purchase_order"]()
    lines = []
    for line_no, (item, quantity, req_id) in enumerate(wanted, 1):
        price = purchase_price(ctx, item)
        net = quantity * price
        lines.append(PoLine(ctx.ids["purchase_order_line"](), line_no, item, req_id, quantity, price, net,
                            half_up(net * ctx.items[item].tax_ppm, 1_000_000)))
        buying.coming[item] = buying.coming.get(item, 0) + quantity
    po = PurchaseOrder(po_id, ctx.number("purchase_order", ctx.year), supplier, ctx.today, ctx.stamp(), lines,
                       sum(line.net for line in lines), sum(line.tax for line in lines))
    ctx.open_docs["purchase_order"][po_id] = po
    if opening:
        ctx.schedule(Agenda.GOODS_RECEIPT, ctx.day, (po, [(line, line.quantity) for line in po.lines]))
    else:
        _schedule_deliveries(ctx, po)
    return po


def _schedule_deliveries(ctx: Context, po: PurchaseOrder) -> None:
    arrives = ctx.day + max(1, ctx.suppliers[po.supplier].lead_days + ctx.rng.randint(-1, 2))
    if ctx.rng.random() < PARTIAL_RECEIPTS and any(line.quantity > 1 for line in po.lines):
        first = [(line, math.ceil(line.quantity * 0.6)) for line in po.lines]
        rest = [(line, line.quantity - q) for line, q in first if line.quantity > q]
        ctx.schedule(Agenda.GOODS_RECEIPT, arrives, (po, first))
        if rest:  # a line of 2 arrives whole in the first delivery (ceil(1.2)): no empty receipt and invoice
            ctx.schedule(Agenda.GOODS_RECEIPT, arrives + ctx.rng.randint(2, 6), (po, rest))
    else:
        ctx.schedule(Agenda.GOODS_RECEIPT, arrives, (po, [(line, line.quantity) for line in po.lines]))


def receive(ctx: Context, buying: Buying, po: PurchaseOrder, portion: list[tuple[PoLine, int]]) -> None:
    """purchasing.receive_goods: stock in at the PO price, Dr Inventory / Cr GRNI."""
    gr_id = ctx.ids["goods_receipt"]()
    created = ctx.stamp()
    total = 0
    line_rows = ctx.sink.rows["goods_receipt_line"]
    first_line_id = 0
    for line, quantity in portion:
        value = quantity * line.price
        item = line.item
        ctx.on_hand[item] += quantity
        ctx.value[item] += value
        line.received += quantity
        buying.coming[item] -= quantity
        total += value
        line_id = ctx.ids["goods_receipt_line"]()
        first_line_id = first_line_id or line_id
        item_id = ctx.items[item].id
        line_rows.append((line_id, gr_id, line.id, item_id, quantity, money(line.price), money(value)))
        ledger.move(ctx, item_id, quantity, value, "goods_receipt", gr_id, line_id, created)
    ctx.sink.rows["goods_receipt"].append((gr_id, ctx.number("goods_receipt", ctx.year), po.id,
                                           ctx.ref.warehouse_id, ctx.today, PostedStatus.POSTED.value,
                                           money(total), created))
    _refresh(ctx, po)
    ledger.post(ctx, "goods_receipt", gr_id, f"Goods receipt for {po.number}", postings.goods_receipt(
        ledger.amount(total)), created)
    if portion and returns.picked(gr_id, returns.SUPPLIER_RETURN_EVERY):  # part goes back; a replacement follows
        line, quantity = portion[0]
        back = returns.supplier_return(ctx, ctx.suppliers[po.supplier].id, po.id, gr_id, line, first_line_id,
                                       quantity, created)
        buying.coming[line.item] += back  # the replacement is on order again
        _refresh(ctx, po)
        portion = [(line, quantity - back), *portion[1:]] if quantity > back else portion[1:]
        ctx.schedule(Agenda.GOODS_RECEIPT, ctx.day + returns.REPLACEMENT_AFTER_DAYS, (po, [(line, back)]))
        if not portion:
            return
    billed = workday_on_or_after(ctx.day + ctx.rng.randint(2, 8))
    ctx.schedule(Agenda.SUPPLIER_INVOICE, billed, (po, portion))


def _invoice_price(ctx: Context, buying: Buying, line: PoLine, quantity: int) -> int:
    if ctx.rng.random() >= PRICE_DEVIATION:
        return line.price
    price = max(1, round(line.price * (1 + ctx.rng.uniform(-0.015, 0.015))))
    match = three_way_match([MatchLine(line.line_no, "", ledger.amount(line.price), Decimal(line.received),
                                       Decimal(line.invoiced), Decimal(quantity), ledger.amount(price))],
                            buying.tolerances)
    return price if match.matched else line.price


def register_invoice(ctx: Context, buying: Buying, po: PurchaseOrder, portion: list[tuple[PoLine, int]]) -> None:
    """purchasing.register_supplier_invoice for what one receipt delivered; it matches and posts at once."""
    supplier = ctx.suppliers[po.supplier]
    inv_id = ctx.ids["supplier_invoice"]()
    ref_no = buying.supplier_refs.get(supplier.id, 0) + 1
    buying.supplier_refs[supplier.id] = ref_no
    created = ctx.stamp()
    net = tax = grni = 0
    line_rows = ctx.sink.rows["supplier_invoice_line"]
    for line, quantity in portion:
        price = _invoice_price(ctx, buying, line, quantity)
        line_net = quantity * price
        spec = ctx.items[line.item]
        line_tax = half_up(line_net * spec.tax_ppm, 1_000_000)
        line_rows.append((ctx.ids["supplier_invoice_line"](), inv_id, line.id, spec.id, quantity, money(price),
                          spec.tax_rate, money(line_net), money(line_tax), money(quantity * line.price)))
        line.invoiced += quantity
        net, tax, grni = net + line_net, tax + line_tax, grni + quantity * line.price
    inv = SupplierInvoice(inv_id, ctx.number("supplier_invoice", ctx.year), f"{supplier.code}-{ref_no:06d}", po,
                          ctx.today, iso(ctx.day + supplier.terms_days), net, tax, created)
    ctx.open_docs["supplier_invoice"][inv_id] = inv
    po.unpaid += 1
    _refresh(ctx, po)
    ledger.post(ctx, "supplier_invoice", inv_id, f"Supplier invoice {inv.ref} ({inv.number})",
                postings.supplier_invoice(supplier.id, ledger.amount(grni), ledger.amount(net), ledger.amount(tax)),
                created)
    ctx.schedule(Agenda.SUPPLIER_PAYMENT, workday_on_or_after(ctx.day + supplier.terms_days), inv)


def pay(ctx: Context, inv: SupplierInvoice) -> None:
    """purchasing.pay_supplier_invoice for the open amount: Dr AP / Cr Bank."""
    pay_id = ctx.ids["supplier_payment"]()
    created = ctx.stamp()
    amount = inv.net + inv.tax - inv.paid
    supplier_id = ctx.suppliers[inv.po.supplier].id
    if returns.picked(pay_id, returns.CANCELLED_PAYMENT_EVERY):  # cancelled, paid again on the next workday
        returns.cancelled(ctx, "supplier_payment", (
            pay_id, ctx.number("supplier_payment", ctx.year), supplier_id, inv.id, ctx.today, money(amount),
            PostedStatus.CANCELLED.value, created), pay_id, f"Payment of {inv.number}",
            postings.supplier_payment(supplier_id, ledger.amount(amount)), created)
        ctx.schedule(Agenda.SUPPLIER_PAYMENT, workday_on_or_after(ctx.day + 1), inv)
        return
    ctx.sink.rows["supplier_payment"].append((pay_id, ctx.number("supplier_payment", ctx.year), supplier_id, inv.id,
                                              ctx.today, money(amount), PostedStatus.POSTED.value, created))
    inv.paid += amount
    _emit_invoice(ctx, inv)
    inv.po.unpaid -= 1
    _refresh(ctx, inv.po)
    ledger.post(ctx, "supplier_payment", pay_id, f"Payment of {inv.number}",
                postings.supplier_payment(supplier_id, ledger.amount(amount)), created)
    ctx.bank -= amount
    ctx.lowest_bank = min(ctx.lowest_bank, ctx.bank)


def _refresh(ctx: Context, po: PurchaseOrder) -> None:
    ordered = received = invoiced = 0
    for line in po.lines:
        ordered, received, invoiced = ordered + line.quantity, received + line.received, invoiced + line.invoiced
    po.status = purchase_order_status([(Decimal(ordered), Decimal(received), Decimal(invoiced))],
                                      fully_paid=po.unpaid == 0)
    if po.status == PurchaseOrderStatus.CLOSED:
        emit_order(ctx, po)


def emit_order(ctx: Context, po: PurchaseOrder) -> None:
    """Write a purchase order and its lines as they stand (closed, or still open when history ends)."""
    del ctx.open_docs["purchase_order"][po.id]
    ctx.sink.rows["purchase_order"].append((po.id, po.number, ctx.suppliers[po.supplier].id, ctx.ref.warehouse_id,
                                            po.date, str(po.status), money(po.net), money(po.tax), po.created,
                                            po.created))
    rows = ctx.sink.rows["purchase_order_line"]
    for line in po.lines:
        spec = ctx.items[line.item]
        rows.append((line.id, po.id, line.line_no, spec.id, line.requisition_id, line.quantity, money(line.price),
                     spec.tax_rate, money(line.net), money(line.tax), line.received, line.invoiced))


def _emit_invoice(ctx: Context, inv: SupplierInvoice) -> None:
    del ctx.open_docs["supplier_invoice"][inv.id]
    total = inv.net + inv.tax
    status = SupplierInvoiceStatus.PAID if inv.paid == total else SupplierInvoiceStatus.MATCHED
    ctx.sink.rows["supplier_invoice"].append((
        inv.id, inv.number, ctx.suppliers[inv.po.supplier].id, inv.ref, inv.po.id, inv.date, inv.due, status.value,
        None, money(inv.net), money(inv.tax), money(total), money(inv.paid), inv.created, inv.created))


def _emit_requisition(ctx: Context, req: Requisition) -> None:
    ctx.sink.rows["purchase_requisition"].append((
        req.id, req.number, ctx.items[req.item].id, ctx.ref.warehouse_id, req.quantity, req.needed_by, req.reason,
        req.sales_order_line_id, req.po_line.id if req.po_line else None, str(req.status), req.created))


def finish(ctx: Context, buying: Buying) -> None:
    """Write the documents still open when history ends."""
    for req in buying.open_requisitions:
        _emit_requisition(ctx, req)
    for po in list(ctx.open_docs["purchase_order"].values()):
        emit_order(ctx, po)
    for inv in list(ctx.open_docs["supplier_invoice"].values()):
        _emit_invoice(ctx, inv)
