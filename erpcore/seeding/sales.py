"""Seeded order-to-cash: sales orders, approval with reservation, shipments, invoices, receipts, cancels.

Each step writes the rows services.sales and its automation handlers write for the same event.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from decimal import Decimal

from erpcore.domain import postings
from erpcore.domain.status import InvoiceStatus, PostedStatus, SalesOrderStatus, sales_order_status
from erpcore.seeding import ledger, purchasing, returns
from erpcore.seeding.context import Agenda, Context, iso, workday_on_or_after
from erpcore.seeding.production import Making
from erpcore.seeding.purchasing import Buying
from erpcore.seeding.rows import Row, four, half_even, half_up, money

LINE_COUNTS = (1, 2, 3, 4, 5, 6)
LINE_CUMULATIVE = tuple(itertools.accumulate((15, 25, 25, 18, 10, 7)))
MAX_LINE_QTY = 24
CANCEL_RATE = 0.004
DRAFT_TODAY = 0.35  # share of today's orders not approved yet
PARTIAL_AFTER_DAYS = 3  # ship what is there once an order has waited this long
SPLIT_RATE = 0.04  # orders whose first shipment takes only some of their lines
SHIPPABLE = (SalesOrderStatus.APPROVED, SalesOrderStatus.PARTLY_SHIPPED)


@dataclass(slots=True)
class OrderLine:
    id: int
    line_no: int
    item: int
    quantity: int
    price: int
    net: int
    tax: int
    shipped: int = 0
    invoiced: int = 0
    reservation_id: int | None = None
    reserved: int = 0


@dataclass(slots=True)
class SalesOrder:
    id: int
    number: str
    customer: int
    date: str
    created: str
    lines: list[OrderLine]
    net: int
    tax: int
    status: str = SalesOrderStatus.DRAFT
    approved_at: str | None = None
    first_ship: int = 0
    unpaid: int = 0
    uninvoiced: list[tuple[Row, OrderLine]] = field(default_factory=list)


@dataclass(slots=True)
class CustomerInvoice:
    id: int
    number: str
    order: SalesOrder
    date: str
    due: str
    total: int
    net: int
    tax: int
    created: str
    credited: int = 0  # what a credit note settled: the receipt pays the rest


@dataclass
class Selling:
    """Who orders what: cumulative weights of customers and items (and what the company makes)."""

    customer_cumulative: list[float]
    item_cumulative: list[float]
    buying: Buying
    making: Making = field(default_factory=Making)


def create_orders(ctx: Context, selling: Selling, count: int) -> None:
    """Today's new sales orders: created, and approved unless held for credit or still a draft tonight."""
    last_day = ctx.day == ctx.end
    for _ in range(count):
        order = _create(ctx, selling)
        if last_day and ctx.rng.random() < DRAFT_TODAY:
            continue
        if _over_credit_limit(ctx, order):
            ctx.schedule(Agenda.CANCEL, ctx.day + 7, order)
            continue
        approve(ctx, selling.buying, order)


def _create(ctx: Context, selling: Selling) -> SalesOrder:
    """sales.create_sales_order at list prices: a draft with several lines of distinct items."""
    rng = ctx.rng
    customer = rng.choices(range(len(ctx.customers)), cum_weights=selling.customer_cumulative)[0]
    count = rng.choices(LINE_COUNTS, cum_weights=LINE_CUMULATIVE)[0]
    picks = dict.fromkeys(rng.choices(range(len(ctx.items)), cum_weights=selling.item_cumulative, k=count))
    new_line = ctx.ids["sales_order_line"]
    lines = []
    for line_no, item in enumerate(picks, 1):
        spec = ctx.items[item]
        quantity = min(MAX_LINE_QTY, 1 + int(rng.expovariate(1.0 / spec.mean_qty)))
        net = quantity * spec.price
        lines.append(OrderLine(new_line(), line_no, item, quantity, spec.price, net,
                               half_up(net * spec.tax_ppm, 1_000_000)))
    order = SalesOrder(ctx.ids["sales_order"](), ctx.number("sales_order", ctx.year), customer, ctx.today,
                       ctx.stamp(), lines, sum(line.net for line in lines), sum(line.tax for line in lines))
    ctx.open_docs["sales_order"][order.id] = order
    return order


def _over_credit_limit(ctx: Context, order: SalesOrder) -> bool:
    """sales._check_credit: open invoices plus this order past a non-zero limit."""
    limit = ctx.customers[order.customer].credit_limit
    return limit > 0 and ctx.open_ar[order.customer] + order.net + order.tax > limit


def approve(ctx: Context, buying: Buying, order: SalesOrder) -> None:
    """sales.approve_sales_order: reserve free stock per line, then the automation's requisitions."""
    on_hand, reserved = ctx.on_hand, ctx.reserved
    new_reservation = ctx.ids["stock_reservation"]
    events: list[tuple[bool, OrderLine]] = []
    for line in order.lines:
        item = line.item
        got = max(0, min(line.quantity, on_hand[item] - reserved[item]))
        reserved[item] += got
        line.reservation_id = new_reservation()
        line.reserved = got
        if got < line.quantity:
            events.append((True, line))
        if got > 0:
            events.append((False, line))
    order.status = SalesOrderStatus.APPROVED
    order.approved_at = ctx.stamp(5)
    _shipping_instruction(ctx, order)
    for shortfall, line in events:
        if shortfall:
            purchasing.raise_requisition(ctx, buying, line.item, line.quantity - line.reserved, "shortage", line.id)
        else:
            purchasing.check_safety_stock(ctx, buying, line.item)
    if ctx.rng.random() < CANCEL_RATE:
        ctx.schedule(Agenda.CANCEL, ctx.day + 1, order)
        return
    order.first_ship = workday_on_or_after(ctx.day + ctx.rng.choice((1, 1, 1, 2)))
    ctx.schedule(Agenda.SHIPMENT, order.first_ship, order)


def _shipping_instruction(ctx: Context, order: SalesOrder) -> None:
    """steps.production.create_shipping_instruction: the approved order handed to the warehouse."""
    items = ctx.items
    body = ", ".join(f'{{"line_no": {line.line_no}, "item_id": {items[line.item].id}, '
                     f'"quantity": "{line.quantity}.0000"}}' for line in order.lines)
    ctx.sink.rows["shipping_instruction"].append((ctx.ids["shipping_instruction"](), order.id, ctx.ref.warehouse_id,
                                                  f"[{body}]", "open", order.approved_at))


def cancel(ctx: Context, order: SalesOrder) -> None:
    """sales.cancel_sales_order for a draft or an approved order that shipped nothing: release reservations."""
    if order.status not in (SalesOrderStatus.DRAFT, SalesOrderStatus.APPROVED):
        return
    for line in order.lines:
        ctx.reserved[line.item] -= line.reserved
        line.reserved = 0
    order.status = SalesOrderStatus.CANCELLED
    emit_order(ctx, order)


def try_ship(ctx: Context, buying: Buying, order: SalesOrder) -> None:
    """Ship the order when all of it can go (or what can, once it has waited); otherwise try tomorrow."""
    if order.status not in SHIPPABLE:
        return
    plan: list[tuple[OrderLine, int]] = []
    complete = True
    for line in order.lines:
        outstanding = line.quantity - line.shipped
        if not outstanding:
            continue
        can = min(outstanding, line.reserved + ctx.on_hand[line.item] - ctx.reserved[line.item])
        complete = complete and can == outstanding
        if can > 0:
            plan.append((line, can))
    if complete and len(plan) > 1 and ctx.day == order.first_ship and ctx.rng.random() < SPLIT_RATE:
        plan = plan[:len(plan) // 2]
    if plan and (complete or ctx.day - order.first_ship >= PARTIAL_AFTER_DAYS):
        ship(ctx, buying, order, plan)
    if order.status in SHIPPABLE:
        ctx.schedule(Agenda.SHIPMENT, workday_on_or_after(ctx.day + 1), order)


def ship(ctx: Context, buying: Buying, order: SalesOrder, plan: list[tuple[OrderLine, int]]) -> None:
    """sales.ship_sales_order: stock leaves at moving-average cost, reservations first; Dr COGS / Cr Inventory."""
    on_hand, reserved, value = ctx.on_hand, ctx.reserved, ctx.value
    shipment_id = ctx.ids["shipment"]()
    new_line = ctx.ids["shipment_line"]
    created = ctx.stamp()
    total = 0
    for line, quantity in plan:
        item = line.item
        from_reservation = min(quantity, line.reserved)
        have, worth = on_hand[item], value[item]
        cost = worth if quantity >= have else half_up(worth * quantity, have)  # stock.issue_value
        on_hand[item], reserved[item], value[item] = have - quantity, reserved[item] - from_reservation, worth - cost
        line.reserved -= from_reservation
        line.shipped += quantity
        total += cost
        line_id = new_line()
        item_id = ctx.items[item].id
        order.uninvoiced.append(((line_id, shipment_id, line.id, line.reservation_id, item_id, quantity,
                                  four(half_even(cost * 100, quantity)), money(cost)), line))
        ledger.move(ctx, item_id, -quantity, -cost, "shipment", shipment_id, line_id, created)
    ctx.sink.rows["shipment"].append((shipment_id, ctx.number("shipment", ctx.year), order.id, ctx.ref.warehouse_id,
                                      ctx.today, PostedStatus.POSTED.value, money(total), created))
    _refresh(ctx, order)
    ledger.post(ctx, "shipment", shipment_id, f"Shipment for sales order {order.id}",
                postings.shipment(ledger.amount(total)), created)
    for line, _ in plan:
        purchasing.check_safety_stock(ctx, buying, line.item)
    ctx.schedule(Agenda.CUSTOMER_INVOICE, workday_on_or_after(ctx.day + ctx.rng.choice((0, 0, 1, 2))), order)


def invoice(ctx: Context, order: SalesOrder) -> None:
    """sales.invoice_sales_order: bill everything shipped and not billed; Dr AR / Cr Revenue / Cr Output VAT."""
    if not order.uninvoiced:
        return
    invoice_id = ctx.ids["customer_invoice"]()
    new_line = ctx.ids["customer_invoice_line"]
    shipment_lines, invoice_lines = ctx.sink.rows["shipment_line"], ctx.sink.rows["customer_invoice_line"]
    net = tax = 0
    first: returns.Invoiced | None = None
    for row, line in order.uninvoiced:
        quantity = row[5]
        spec = ctx.items[line.item]
        line_net = quantity * line.price
        line_tax = half_up(line_net * spec.tax_ppm, 1_000_000)
        invoice_line_id = new_line()
        first = first or returns.Invoiced(row, invoice_line_id, line.item, line.price, line_net, line_tax)
        invoice_lines.append((invoice_line_id, invoice_id, row[0], line.id, spec.id, quantity, money(line.price),
                              spec.tax_rate, money(line_net), money(line_tax)))
        shipment_lines.append((*row, quantity))
        line.invoiced += quantity
        net, tax = net + line_net, tax + line_tax
    order.uninvoiced = []
    customer = ctx.customers[order.customer]
    inv = CustomerInvoice(invoice_id, ctx.number("customer_invoice", ctx.year), order, ctx.today,
                          iso(ctx.day + customer.terms_days), net + tax, net, tax, ctx.stamp())
    ctx.open_docs["customer_invoice"][invoice_id] = inv
    ctx.open_ar[order.customer] += inv.total
    order.unpaid += 1
    _refresh(ctx, order)
    ledger.post(ctx, "customer_invoice", invoice_id, f"Customer invoice for sales order {order.id}",
                postings.customer_invoice(customer.id, ledger.amount(net), ledger.amount(tax)), inv.created)
    if first is not None and returns.picked(invoice_id, returns.CUSTOMER_RETURN_EVERY):
        inv.credited = returns.customer_return(ctx, customer.id, order.id, invoice_id, first, inv.created)
    if not customer.never_pays:
        delay = customer.terms_days + int(ctx.rng.gauss(customer.pay_delay, 3.0))
        ctx.schedule(Agenda.CUSTOMER_RECEIPT, ctx.day + max(1, delay), inv)


def receive_payment(ctx: Context, inv: CustomerInvoice) -> None:
    """sales.record_customer_receipt for the open amount: Dr Bank / Cr AR."""
    receipt_id = ctx.ids["customer_receipt"]()
    created = ctx.stamp()
    order = inv.order
    customer_id = ctx.customers[order.customer].id
    amount = inv.total - inv.credited
    if returns.picked(receipt_id, returns.CANCELLED_RECEIPT_EVERY):  # cancelled, received again tomorrow
        returns.cancelled(ctx, "customer_receipt", (
            receipt_id, ctx.number("customer_receipt", ctx.year), customer_id, inv.id, ctx.today, money(amount),
            PostedStatus.CANCELLED.value, created), receipt_id, f"Receipt for invoice {inv.number}",
            postings.customer_receipt(customer_id, ledger.amount(amount)), created)
        ctx.schedule(Agenda.CUSTOMER_RECEIPT, ctx.day + 1, inv)
        return
    ctx.sink.rows["customer_receipt"].append((receipt_id, ctx.number("customer_receipt", ctx.year), customer_id,
                                              inv.id, ctx.today, money(amount), PostedStatus.POSTED.value,
                                              created))
    _emit_invoice(ctx, inv, paid=True)
    ctx.open_ar[order.customer] -= inv.total
    ctx.bank += amount
    order.unpaid -= 1
    _refresh(ctx, order)
    ledger.post(ctx, "customer_receipt", receipt_id, f"Receipt for invoice {inv.number}",
                postings.customer_receipt(customer_id, ledger.amount(amount)), created)


def _refresh(ctx: Context, order: SalesOrder) -> None:
    """sales._refresh_status, from the order's totals (the rule sums its lines anyway)."""
    ordered = shipped = invoiced = 0
    for line in order.lines:
        ordered, shipped, invoiced = ordered + line.quantity, shipped + line.shipped, invoiced + line.invoiced
    order.status = sales_order_status([(Decimal(ordered), Decimal(shipped), Decimal(invoiced))],
                                      fully_paid=order.unpaid == 0)
    if order.status == SalesOrderStatus.CLOSED:
        emit_order(ctx, order)


def emit_order(ctx: Context, order: SalesOrder) -> None:
    """Write an order with its lines and reservations as they stand (final, or open when history ends)."""
    del ctx.open_docs["sales_order"][order.id]
    wh = ctx.ref.warehouse_id
    ctx.sink.rows["sales_order"].append((order.id, order.number, ctx.customers[order.customer].id, wh, order.date,
                                         str(order.status), True, money(order.net), money(order.tax),
                                         order.approved_at, order.created))
    line_rows, reservation_rows = ctx.sink.rows["sales_order_line"], ctx.sink.rows["stock_reservation"]
    for line in order.lines:
        spec = ctx.items[line.item]
        line_rows.append((line.id, order.id, line.line_no, spec.id, line.quantity, money(line.price), spec.tax_rate,
                          money(line.net), money(line.tax), line.shipped, line.invoiced))
        if line.reservation_id is not None:
            reservation_rows.append((line.reservation_id, line.id, spec.id, wh, line.reserved, order.approved_at))


def _emit_invoice(ctx: Context, inv: CustomerInvoice, paid: bool) -> None:
    del ctx.open_docs["customer_invoice"][inv.id]
    status = InvoiceStatus.PAID if paid else InvoiceStatus.POSTED
    ctx.sink.rows["customer_invoice"].append((
        inv.id, inv.number, ctx.customers[inv.order.customer].id, inv.order.id, inv.date, inv.due, status.value,
        money(inv.net), money(inv.tax), money(inv.total), money(inv.total - inv.credited if paid else 0), inv.created))


def finish(ctx: Context) -> None:
    """Write the documents still open when history ends."""
    shipment_lines = ctx.sink.rows["shipment_line"]
    for order in list(ctx.open_docs["sales_order"].values()):
        for row, _ in order.uninvoiced:
            shipment_lines.append((*row, 0))
        emit_order(ctx, order)
    for inv in list(ctx.open_docs["customer_invoice"].values()):
        _emit_invoice(ctx, inv, paid=False)
