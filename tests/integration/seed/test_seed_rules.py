"""Seeded amounts follow the domain's rules row by row: line amounts, tax rounding, moving-average issue
values and unit costs, postings per document; and the integer arithmetic behind them equals Decimal's."""

from __future__ import annotations

import random
from collections import defaultdict
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text

from erpcore.domain.money import line_amounts, to_cents
from erpcore.domain.stock import Balance, issue_value
from erpcore.seeding.rows import four, half_even, half_up, money
from tests.integration.seed.conftest import Seeded

CENT = Decimal("0.01")
FOUR = Decimal("0.0001")


def _d(value: Any, places: Decimal = CENT) -> Decimal:
    """A stored number as Decimal (SQLite hands back floats) at its column's precision."""
    return Decimal(str(value)).quantize(places)


def test_integer_rounding_equals_decimal_rounding() -> None:
    rng = random.Random(5)
    for _ in range(20_000):
        numerator, denominator = rng.randrange(0, 10**9), rng.randrange(1, 10**4)
        exact = Decimal(numerator) / Decimal(denominator)
        assert half_up(numerator, denominator) == exact.quantize(Decimal(1), rounding=ROUND_HALF_UP)
        assert half_even(numerator, denominator) == exact.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    assert [money(c) for c in (0, 5, 1234, -5, -1234)] == ["0.00", "0.05", "12.34", "-0.05", "-12.34"]
    assert [four(u) for u in (0, 123456, -7)] == ["0.0000", "12.3456", "-0.0007"]


def test_document_lines_carry_the_domain_line_amounts(seeded: Seeded) -> None:
    tables = ("sales_order_line", "customer_invoice_line", "purchase_order_line", "supplier_invoice_line")
    with seeded.engine.connect() as conn:
        for table in tables:
            for quantity, price, rate, net, tax in conn.execute(text(
                    f"SELECT quantity, unit_price, tax_rate, net_amount, tax_amount FROM {table}")):
                expected = line_amounts(_d(quantity, FOUR), _d(price), _d(rate, Decimal("0.000001")))
                assert (_d(net), _d(tax)) == expected, table


def test_shipments_leave_at_moving_average_cost(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        moves = conn.execute(text("SELECT item_id, quantity, value_amount, source_type, source_line_id "
                                  "FROM stock_move ORDER BY id")).all()
        unit_costs: dict[int, Any] = dict(conn.execute(text("SELECT id, unit_cost FROM shipment_line")).all())
    balances: dict[int, tuple[Decimal, Decimal]] = defaultdict(lambda: (Decimal(0), Decimal(0)))
    for item, quantity, value, source_type, line_id in moves:
        on_hand, worth = balances[item]
        quantity, value = _d(quantity, FOUR), _d(value)
        if source_type == "shipment":
            assert -value == issue_value(Balance(on_hand, Decimal(0), worth), -quantity)
            assert _d(unit_costs[line_id], FOUR) == (-value / -quantity).quantize(FOUR)
        balances[item] = (on_hand + quantity, worth + value)
        assert balances[item][0] >= 0 and balances[item][1] >= 0


def test_each_document_posts_what_the_domain_rules_say(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        lines = conn.execute(text(
            "SELECT je.source_type, je.source_id, a.role, SUM(jl.debit - jl.credit) FROM journal_line jl "
            "JOIN journal_entry je ON je.id = jl.journal_entry_id JOIN account a ON a.id = jl.account_id "
            "GROUP BY je.source_type, je.source_id, a.role")).all()
        invoices = {i: (_d(n), _d(t)) for i, n, t in conn.execute(text(
            "SELECT id, net_amount, tax_amount FROM customer_invoice"))}
        shipments = {i: _d(c) for i, c in conn.execute(text("SELECT id, cost_amount FROM shipment"))}
        receipts = {i: _d(v) for i, v in conn.execute(text("SELECT id, value_amount FROM goods_receipt"))}
    posted: dict[tuple[str, int], dict[str, Decimal]] = defaultdict(dict)
    for source_type, source_id, role, amount in lines:
        posted[(source_type, int(source_id))][role] = _d(amount)
    for invoice_id, (net, tax) in invoices.items():
        entry = posted[("customer_invoice", invoice_id)]
        assert entry["accounts_receivable"] == net + tax and entry["revenue"] == -net
        assert entry.get("output_vat", Decimal("0.00")) == -tax
    for shipment_id, cost in shipments.items():
        assert posted[("shipment", shipment_id)] == {"cost_of_goods_sold": cost, "inventory": -cost}
    for receipt_id, value in receipts.items():
        assert posted[("goods_receipt", receipt_id)] == {"inventory": value, "goods_received_not_invoiced": -value}
    capital = posted[("capital_injection", 1)]
    assert capital == {"bank": to_cents(seeded.summary.capital), "equity": -to_cents(seeded.summary.capital)}
