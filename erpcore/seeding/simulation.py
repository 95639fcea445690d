"""The day-by-day simulation: each day's receipts, bills, payments, shipments, invoices and new orders."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Callable

from erpcore.domain import postings
from erpcore.seeding import ledger, masterdata, payroll, production, purchasing, sales
from erpcore.seeding.context import Agenda, Context, is_workday
from erpcore.seeding.purchasing import Buying
from erpcore.seeding.rows import money
from erpcore.seeding.sales import Selling
from erpcore.services.numbering import format_number

WEEKDAY = (1.15, 1.10, 1.08, 1.05, 1.0, 0.42, 0.20)
WEEKDAY_MEAN = sum(WEEKDAY) / 7
SEASON_AMPLITUDE = 0.22  # busiest around early December, quietest in early June
PEAK_DAY_OF_YEAR = 335
GROWTH = 0.3  # the last day sells this much more than the first, around the same mean
CAPITAL_STEP = 10_000_000  # cents: the owners put in round amounts of 100,000.00

Progress = Callable[[int, int], None]


def demand(ctx: Context, ordinal: int) -> float:
    """Expected orders on a day relative to the average day: weekday x season x growth."""
    weekday = WEEKDAY[(ordinal - 1) % 7] / WEEKDAY_MEAN
    day_of_year = dt.date.fromordinal(ordinal).timetuple().tm_yday
    season = 1 + SEASON_AMPLITUDE * math.cos(2 * math.pi * (day_of_year - PEAK_DAY_OF_YEAR) / 365.25)
    elapsed = (ordinal - ctx.start) / max(1, ctx.end - ctx.start)
    return weekday * season * (1 + GROWTH * (elapsed - 0.5))


def setup(ctx: Context, orders_per_day: int) -> Selling:
    """Master data, the reserved opening capital entry and the opening stock, on the first day."""
    ctx.set_day(ctx.start)
    ctx.ids["journal_entry"]()  # id 1 and the year's first number: the capital injection, written last
    ctx.number("journal_entry", ctx.year)
    n_suppliers, n_customers, n_items = masterdata.sizes(orders_per_day)
    masterdata.make_suppliers(ctx, n_suppliers)
    customer_weights = masterdata.make_customers(ctx, n_customers, masterdata.daily_revenue(orders_per_day))
    item_weights = masterdata.make_items(ctx, n_items, orders_per_day)
    selling = Selling(list(itertools.accumulate(customer_weights)), list(itertools.accumulate(item_weights)),
                      Buying())
    _opening_stock(ctx, selling.buying)
    selling.making = production.setup(ctx, masterdata.manufactured(orders_per_day))
    return selling


def _opening_stock(ctx: Context, buying: Buying) -> None:
    """One purchase order per supplier filling every item to its safety stock plus a reorder quantity."""
    wanted: dict[int, list[tuple[int, int, int | None]]] = {}
    for index, spec in enumerate(ctx.items):
        wanted.setdefault(spec.supplier, []).append((index, spec.safety + spec.reorder, None))
    for supplier in sorted(wanted):
        purchasing.create_order(ctx, buying, supplier, wanted[supplier], opening=True)


def run(ctx: Context, selling: Selling, orders_per_day: int, progress: Progress | None) -> dict[str, int]:
    """Simulate every day from the first to the last, write what is still open; returns the open counts."""
    total = ctx.end - ctx.start + 1
    staff = payroll.hire(ctx, ctx.keys, orders_per_day)
    for n, ordinal in enumerate(range(ctx.start, ctx.end + 1), 1):
        ctx.set_day(ordinal)
        _work(ctx, selling, orders_per_day)
        payroll.work(ctx, staff)
        ctx.sink.pump()
        if progress is not None:
            progress(n, total)
    still_open = {**open_documents(ctx, selling.buying), **production.open_work_orders(selling.making)}
    production.finish(ctx, selling.making)
    purchasing.finish(ctx, selling.buying)
    sales.finish(ctx)
    payroll.finish(ctx, staff)
    _closing_rows(ctx)
    return still_open


def _work(ctx: Context, selling: Selling, orders_per_day: int) -> None:
    buying = selling.buying
    for po, portion in ctx.due(Agenda.GOODS_RECEIPT):
        purchasing.receive(ctx, buying, po, portion)
    for po, portion in ctx.due(Agenda.SUPPLIER_INVOICE):
        purchasing.register_invoice(ctx, buying, po, portion)
    for supplier_invoice in ctx.due(Agenda.SUPPLIER_PAYMENT):
        purchasing.pay(ctx, supplier_invoice)
    for customer_invoice in ctx.due(Agenda.CUSTOMER_RECEIPT):
        sales.receive_payment(ctx, customer_invoice)
    if is_workday(ctx.day):  # the buyer orders yesterday's requisitions first thing
        purchasing.order_requisitions(ctx, buying)
    production.work(ctx, selling.making, buying)
    for order in ctx.due(Agenda.CANCEL):
        sales.cancel(ctx, order)
    for order in ctx.due(Agenda.SHIPMENT):
        sales.try_ship(ctx, buying, order)
    for order in ctx.due(Agenda.CUSTOMER_INVOICE):
        sales.invoice(ctx, order)
    expected = orders_per_day * demand(ctx, ctx.day)
    sales.create_orders(ctx, selling, max(0, round(ctx.rng.gauss(expected, math.sqrt(expected)))))


def open_documents(ctx: Context, buying: Buying) -> dict[str, int]:
    """Documents still open when history ends, by type and stage."""
    stages: Counter[str] = Counter()
    for order in ctx.open_docs["sales_order"].values():
        stages[f"sales_order.{order.status}"] += 1
    for po in ctx.open_docs["purchase_order"].values():
        stages[f"purchase_order.{po.status}"] += 1
        if any(line.received > line.invoiced for line in po.lines):
            stages["purchase_order.received_not_invoiced"] += 1
    stages["customer_invoice.unpaid"] = len(ctx.open_docs["customer_invoice"])
    stages["supplier_invoice.unpaid"] = len(ctx.open_docs["supplier_invoice"])
    stages["purchase_requisition.open"] = len(buying.open_requisitions)
    return dict(sorted(stages.items()))


def capital_needed(ctx: Context) -> int:
    """The opening capital in cents: the bank's lowest point covered with a margin, in round amounts."""
    need = max(0, -ctx.lowest_bank) * 5 // 4
    return (need // CAPITAL_STEP + 1) * CAPITAL_STEP


def _closing_rows(ctx: Context) -> None:
    """Stock balances, the opening capital entry (id 1, dated the first day) and the number sequences."""
    wh = ctx.ref.warehouse_id
    balances = ctx.sink.rows["stock_balance"]
    for index, spec in enumerate(ctx.items):
        balances.append((spec.id, wh, ctx.on_hand[index], ctx.reserved[index], money(ctx.value[index])))
    first_day = dt.date.fromordinal(ctx.start)
    day = first_day.isoformat()
    ledger.write_entry(ctx, 1, format_number("journal_entry", first_day.year, 1), day, "capital_injection", 1,
                       "Opening capital injection", postings.capital_injection(ledger.amount(capital_needed(ctx))),
                       f"{day} 06:00:00{ctx.sink.timestamp_suffix}")
    sequences = ctx.sink.rows["document_sequence"]
    for (doc_type, year), last in sorted(ctx.numbers.items()):
        sequences.append((doc_type, year, last + 1))
