"""Seeded plan-to-produce: a few manufactured items with two-level bills of materials, and their work orders
through the life cycle services.production gives them, on a fixed rhythm per item.

A work order is planned and released on a workday (components reserved; a purchased component short raises a
requisition, as the live release does), issued the next workday once free stock covers it (or cancelled after
`ISSUE_TRIES` days of waiting), its finished goods received two days later (now and then one unit short:
yield loss) and closed the day after, the shortfall's cost going to production variance. Rows are written
when a work order is final (closed, cancelled) or when history ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from erpcore.domain import postings, production
from erpcore.domain.money import to_cents
from erpcore.domain.status import WorkOrderStatus
from erpcore.seeding import ledger, purchasing
from erpcore.seeding.context import Context, workday_on_or_after
from erpcore.seeding.purchasing import Buying
from erpcore.seeding.rows import four, half_up, money

SCRAP = ("0", "0", "0.05", "0.10")  # x 20 units: the gross need of a batch stays whole
BATCH = (20, 40)
INTERVAL_DAYS = (14, 21, 28)
ISSUE_TRIES = 10
YIELD_LOSS = 0.2  # share of work orders receiving one unit fewer than planned
SOURCE = "work_order"
W = WorkOrderStatus


@dataclass(slots=True)
class Component:
    part: int  # index into ctx.items, or -1 - index into Making.products for a sub-assembly
    per_unit: int
    scrap: str


@dataclass(slots=True)
class Product:
    id: int
    sku: str
    components: list[Component]
    standard: Decimal  # rolled-up standard cost per unit
    batch: int
    interval: int
    on_hand: int = 0
    value: int = 0  # cents
    next_plan: int = 0


@dataclass(slots=True)
class Line:
    id: int
    line_no: int
    component: Component
    need: int
    unit_cost: Decimal
    planned: int  # cents
    reserved: int = 0
    issued: int = 0
    cost: int = 0


@dataclass(slots=True)
class WorkOrder:
    id: int
    number: str
    product: Product
    quantity: int
    date: str
    created: str
    released_at: str
    lines: list[Line]
    status: str = W.RELEASED
    tries: int = 0
    issued: int = 0
    received_qty: int = 0
    received: int = 0
    variance: int = 0
    issue_date: str | None = None
    receipt_date: str | None = None
    close_date: str | None = None


@dataclass
class Making:
    """Production state: the manufactured items and what is due on which day."""

    products: list[Product] = field(default_factory=list)
    due: dict[int, list[WorkOrder]] = field(default_factory=dict)
    open: dict[int, WorkOrder] = field(default_factory=dict)


def setup(ctx: Context, count: int) -> Making:
    """`count` manufactured items after the purchased ones: the first a sub-assembly the others may use."""
    making = Making()
    leaf = {spec.id: Decimal(spec.cost).scaleb(-2) for spec in ctx.items}
    boms: dict[int, list[production.BomLine]] = {}
    for n in range(count):
        parts = ctx.rng.sample(range(len(ctx.items)), ctx.rng.randint(2, 3))
        components = [Component(p, ctx.rng.randint(1, 3), ctx.rng.choice(SCRAP)) for p in parts]
        if n > 0 and ctx.rng.random() < 0.5:
            components.insert(0, Component(-1, 1, "0"))
        item_id = len(ctx.items) + n + 1
        boms[item_id] = [production.BomLine(_item_id(ctx, making, c), Decimal(c.per_unit), Decimal(c.scrap))
                         for c in components]
        standard = production.rolled_up_cost(boms, item_id, leaf)
        product = Product(item_id, f"MFG-{n + 1:04d}", components, standard, ctx.rng.choice(BATCH),
                          ctx.rng.choice(INTERVAL_DAYS))
        product.next_plan = workday_on_or_after(ctx.start + 7 + ctx.rng.randrange(product.interval))
        making.products.append(product)
        _emit_product(ctx, product, boms[item_id])
    return making


def _item_id(ctx: Context, making: Making, c: Component) -> int:
    return ctx.items[c.part].id if c.part >= 0 else making.products[-1 - c.part].id


def _emit_product(ctx: Context, product: Product, bom: list[production.BomLine]) -> None:
    created = f"{ctx.today} 06:00:00{ctx.sink.timestamp_suffix}"
    price = product.standard * Decimal("1.6")
    tax_id = ctx.ref.tax_codes["STD"][0]
    ctx.sink.rows["item"].append((product.id, product.sku, f"Assembled product {product.sku[4:]}", "pcs",
                                  str(product.standard.quantize(Decimal("0.01"))), str(price.quantize(Decimal("0.01"))),
                                  tax_id, "0", "0", None, "manufactured", created))
    bom_id = ctx.ids["bill_of_materials"]()
    ctx.sink.rows["bill_of_materials"].append((bom_id, product.id, created))
    for n, line in enumerate(bom, 1):
        ctx.sink.rows["bom_line"].append((ctx.ids["bom_line"](), bom_id, n, line.component_id, str(line.quantity),
                                          str(line.scrap_factor)))


def work(ctx: Context, making: Making, buying: Buying) -> None:
    """Today's issues, receipts and closes, then the plans that fall due."""
    for wo in making.due.pop(ctx.day, []):
        if wo.status == W.RELEASED:
            _issue(ctx, making, buying, wo)
        elif wo.status == W.ISSUED:
            _receive(ctx, making, wo)
        elif wo.status == W.RECEIVED:
            _close(ctx, making, wo)
    for product in making.products:
        if product.next_plan == ctx.day:
            product.next_plan = workday_on_or_after(ctx.day + product.interval)
            _plan_and_release(ctx, making, buying, product)


def _schedule(making: Making, day: int, wo: WorkOrder) -> None:
    making.due.setdefault(day, []).append(wo)


def _free(ctx: Context, making: Making, c: Component) -> int:
    if c.part >= 0:
        return ctx.on_hand[c.part] - ctx.reserved[c.part]
    return making.products[-1 - c.part].on_hand - _product_reserved(making, c.part)


def _product_reserved(making: Making, part: int) -> int:
    return sum(line.reserved for wo in making.open.values() for line in wo.lines if line.component.part == part)


def _plan_and_release(ctx: Context, making: Making, buying: Buying, product: Product) -> None:
    """steps.production.plan + production.release_work_order: lines at rolled-up standard cost, reserved."""
    lines = []
    for n, c in enumerate(product.components, 1):
        need = product.batch * c.per_unit * (100 + round(Decimal(c.scrap) * 100)) // 100
        unit = ctx.items[c.part].cost if c.part >= 0 else None
        unit_cost = Decimal(unit).scaleb(-2) if unit is not None else making.products[-1 - c.part].standard
        lines.append(Line(ctx.ids["work_order_line"](), n, c, need, unit_cost,
                          int(to_cents(need * unit_cost).scaleb(2))))
    wo = WorkOrder(ctx.ids["work_order"](), ctx.number("work_order", ctx.year), product, product.batch, ctx.today,
                   ctx.stamp(), "", lines)
    wo.released_at = ctx.stamp(5)
    making.open[wo.id] = wo
    for line in lines:
        got = max(0, min(line.need, _free(ctx, making, line.component)))
        line.reserved = got
        if line.component.part >= 0:
            ctx.reserved[line.component.part] += got
            if got > 0:
                purchasing.check_safety_stock(ctx, buying, line.component.part)
            if got < line.need:
                purchasing.raise_requisition(ctx, buying, line.component.part, line.need - got, "work_order")
    _schedule(making, workday_on_or_after(ctx.day + 1), wo)


def _issue(ctx: Context, making: Making, buying: Buying, wo: WorkOrder) -> None:
    """production.issue_materials once free stock covers every line; cancel_work_order after waiting too long."""
    if any(line.need - line.reserved > _free(ctx, making, line.component) for line in wo.lines):
        wo.tries += 1
        if wo.tries < ISSUE_TRIES:
            _schedule(making, workday_on_or_after(ctx.day + 1), wo)
        else:
            _cancel(ctx, making, wo)
        return
    created = ctx.stamp()
    for line in wo.lines:
        part = line.component.part
        if part >= 0:
            cost = _take(ctx.on_hand[part], ctx.value[part], line.need)
            ctx.on_hand[part] -= line.need
            ctx.reserved[part] -= line.reserved
            ctx.value[part] -= cost
        else:
            made = making.products[-1 - part]
            cost = _take(made.on_hand, made.value, line.need)
            made.on_hand -= line.need
            made.value -= cost
        line.reserved, line.issued, line.cost = 0, line.need, cost
        wo.issued += cost
        ledger.move(ctx, _item_id(ctx, making, line.component), -line.need, -cost, SOURCE, wo.id, line.id, created,
                    event="issue")
    ledger.post(ctx, SOURCE, wo.id, f"Components issued to work order {wo.number}",
                postings.material_issue(ledger.amount(wo.issued)), created, event="issue")
    for line in wo.lines:
        if line.component.part >= 0:
            purchasing.check_safety_stock(ctx, buying, line.component.part)
    wo.status, wo.issue_date = W.ISSUED, ctx.today
    _schedule(making, workday_on_or_after(ctx.day + 2), wo)


def _take(on_hand: int, value: int, qty: int) -> int:
    """stock.issue_value in cents: all of the value with the last unit, else its share rounded half up."""
    return value if qty >= on_hand else half_up(value * qty, on_hand)


def _receive(ctx: Context, making: Making, wo: WorkOrder) -> None:
    """production.receive_finished_goods at the rolled-up actual cost; now and then a unit short."""
    qty = wo.quantity - (1 if ctx.rng.random() < YIELD_LOSS else 0)
    value = wo.issued if qty >= wo.quantity else half_up(wo.issued * qty, wo.quantity)
    wo.product.on_hand += qty
    wo.product.value += value
    wo.received_qty, wo.received = qty, value
    created = ctx.stamp()
    ledger.move(ctx, wo.product.id, qty, value, SOURCE, wo.id, wo.id, created, event="receive")
    ledger.post(ctx, SOURCE, wo.id, f"Finished goods of work order {wo.number}",
                postings.finished_goods_receipt(ledger.amount(value)), created, event="receive")
    wo.status, wo.receipt_date = W.RECEIVED, ctx.today
    _schedule(making, workday_on_or_after(ctx.day + 1), wo)


def _close(ctx: Context, making: Making, wo: WorkOrder) -> None:
    """production.close_work_order: what is left in WIP goes to production variance."""
    wo.variance = wo.issued - wo.received
    if wo.variance:
        ledger.post(ctx, SOURCE, wo.id, f"Production variance of work order {wo.number}",
                    postings.production_variance(ledger.amount(wo.variance)), ctx.stamp(), event="close")
    wo.status, wo.close_date = W.CLOSED, ctx.today
    _emit(ctx, making, wo)


def _cancel(ctx: Context, making: Making, wo: WorkOrder) -> None:
    """production.cancel_work_order: the reservations are released."""
    for line in wo.lines:
        if line.component.part >= 0:
            ctx.reserved[line.component.part] -= line.reserved
        line.reserved = 0
    wo.status = W.CANCELLED
    _emit(ctx, making, wo)


def _emit(ctx: Context, making: Making, wo: WorkOrder) -> None:
    making.open.pop(wo.id, None)
    ctx.sink.rows["work_order"].append((
        wo.id, wo.number, wo.product.id, ctx.ref.warehouse_id, wo.quantity, str(wo.status), wo.date, "manual",
        None, None, money(sum(line.planned for line in wo.lines)), money(wo.issued), wo.received_qty,
        money(wo.received), money(wo.variance), wo.released_at, wo.issue_date, wo.receipt_date, wo.close_date,
        wo.created))
    append = ctx.sink.rows["work_order_line"].append
    for line in wo.lines:
        append((line.id, wo.id, line.line_no, _item_id(ctx, making, line.component), line.need,
                four(int(line.unit_cost.scaleb(4))), money(line.planned), line.reserved, line.issued,
                money(line.cost)))


def finish(ctx: Context, making: Making) -> None:
    """Write the work orders still open and the manufactured items' stock balances."""
    held = {n: _product_reserved(making, -1 - n) for n in range(len(making.products))}
    for wo in list(making.open.values()):
        _emit(ctx, making, wo)
    for n, product in enumerate(making.products):
        ctx.sink.rows["stock_balance"].append((product.id, ctx.ref.warehouse_id, product.on_hand, held[n],
                                               money(product.value)))


def open_work_orders(making: Making) -> dict[str, int]:
    """Work orders still open when history ends, by status."""
    counts: dict[str, int] = {}
    for wo in making.open.values():
        counts[f"work_order.{wo.status}"] = counts.get(f"work_order.{wo.status}", 0) + 1
    return counts
