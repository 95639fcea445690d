"""Seeded master data: suppliers, customers and purchased items sized to the order volume."""

from __future__ import annotations

import math
from decimal import Decimal

from erpcore.seeding.context import Context, ItemSpec, Party
from erpcore.seeding.rows import money

FIRST = ("Northwind", "Blue Harbor", "Alder", "Crescent", "Summit", "Riverside", "Oakline", "Granite", "Silverleaf",
         "Brightwater", "Kestrel", "Meridian", "Foxglove", "Ironbridge", "Lakeshore", "Pinecrest", "Redwood",
         "Sterling", "Westgate", "Highfield")
SECOND = ("Traders", "Supply", "Retail", "Wholesale", "Distribution", "Goods", "Outfitters", "Market", "Partners",
          "Stores", "Logistics", "Industries")
ADJECTIVES = ("Compact", "Heavy-duty", "Premium", "Classic", "Eco", "Slim", "Pro", "Mini", "Deluxe", "Basic",
              "Rugged", "Smart")
NOUNS = ("Widget", "Bracket", "Cable", "Lamp", "Valve", "Filter", "Hinge", "Sensor", "Adapter", "Bottle", "Drill",
         "Kettle", "Notebook", "Bolt set", "Tape", "Glove", "Charger", "Pump", "Switch", "Panel")
UNITS = ("pcs", "pcs", "pcs", "pcs", "box", "pack", "set")
TAX_MIX = (("STD", 70), ("RED", 20), ("ZERO", 10))
MEAN_LINES = 3.0
PEAK = 1.8  # busiest day's demand over the average one (season x weekday x growth)


def sizes(orders_per_day: int) -> tuple[int, int, int]:
    """How many suppliers, customers and items a company of this volume has."""
    suppliers = max(4, min(60, orders_per_day // 4 + 4))
    customers = max(12, min(5_000, orders_per_day * 12))
    items = max(15, min(600, orders_per_day * 2))
    return suppliers, customers, items


def manufactured(orders_per_day: int) -> int:
    """How many items the company makes itself (each with a bill of materials)."""
    return max(2, min(8, orders_per_day // 25 + 2))


def _name(ctx: Context, n: int) -> str:
    return f"{ctx.rng.choice(FIRST)} {ctx.rng.choice(SECOND)} {n}"


def _created(ctx: Context) -> str:
    return f"{ctx.today} 06:00:00{ctx.sink.timestamp_suffix}"


def make_suppliers(ctx: Context, count: int) -> None:
    """Suppliers with payment terms and a delivery lead time."""
    rows = ctx.sink.rows["supplier"]
    for n in range(1, count + 1):
        code = f"S{n:05d}"
        terms = ctx.rng.choice((30, 30, 45, 60))
        party = Party(n, code, terms, 0, lead_days=ctx.rng.randint(2, 7))
        ctx.suppliers.append(party)
        rows.append((n, code, _name(ctx, n), f"sales@{code.lower()}.example", None, "0.00", party.terms_days,
                     _created(ctx)))


def make_customers(ctx: Context, count: int, daily_revenue: int) -> list[float]:
    """Customers with their order weights (a few large accounts, a long tail)."""
    weights = [1.0 / (n + 3) ** 0.8 for n in range(count)]
    ctx.rng.shuffle(weights)
    total = sum(weights)
    rows = ctx.sink.rows["customer"]
    for n in range(1, count + 1):
        code = f"C{n:06d}"
        terms = ctx.rng.choice((14, 30, 30, 30, 45, 60))
        share = weights[n - 1] / total
        limit = 0 if ctx.rng.random() < 0.6 else _credit_limit(share * daily_revenue * (terms + 30) * 3)
        party = Party(n, code, terms, limit, ctx.rng.gauss(1.0, 4.0), ctx.rng.random() < 0.01)
        ctx.customers.append(party)
        ctx.open_ar.append(0)
        rows.append((n, code, _name(ctx, n), f"ap@{code.lower()}.example", None, money(limit), terms, _created(ctx)))
    return weights


def _credit_limit(cents: float) -> int:
    step = 100_000  # 1,000.00
    return max(step * 5, math.ceil(cents / step) * step)


def make_items(ctx: Context, count: int, orders_per_day: int) -> list[float]:
    """Purchased items with their order weights and planning parameters sized to expected demand."""
    weights = [1.0 / (n + 5) ** 0.9 for n in range(count)]
    ctx.rng.shuffle(weights)
    total = sum(weights)
    codes = [code for code, share in TAX_MIX for _ in range(share)]
    rows = ctx.sink.rows["item"]
    for n in range(1, count + 1):
        price = min(250_000, max(150, int(math.exp(ctx.rng.gauss(3.3, 0.9)) * 100)))
        cost = int(price * ctx.rng.uniform(0.5, 0.75))
        tax_id, rate = ctx.ref.tax_codes[ctx.rng.choice(codes)]
        supplier = ctx.rng.randrange(len(ctx.suppliers))
        mean_qty = 2.0 if price > 10_000 else 4.0
        daily = orders_per_day * MEAN_LINES * weights[n - 1] / total * (mean_qty + 0.5)
        lead = ctx.suppliers[supplier].lead_days + 4
        safety = math.ceil(daily * PEAK * (lead + 4)) + int(mean_qty * 6)
        reorder = max(10, math.ceil(daily * 25))
        spec = ItemSpec(n, f"SKU-{n:05d}", price, cost, rate, int(Decimal(rate).scaleb(6)), supplier, safety,
                        reorder, mean_qty)
        ctx.items.append(spec)
        ctx.on_hand.append(0)
        ctx.reserved.append(0)
        ctx.value.append(0)
        name = f"{ctx.rng.choice(ADJECTIVES)} {ctx.rng.choice(NOUNS)} {n}"
        rows.append((n, spec.sku, name, ctx.rng.choice(UNITS), money(cost), money(price), tax_id, safety, reorder,
                     ctx.suppliers[supplier].id, "purchased", _created(ctx)))
    return weights


def daily_revenue(orders_per_day: int) -> int:
    """A rough expected revenue per day in cents, for sizing credit limits."""
    return int(orders_per_day * MEAN_LINES * 4 * 6_000)
