"""The domain rules in plain Python: no database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erpcore.domain import postings
from erpcore.domain.accounts import Role
from erpcore.domain.matching import MatchLine, Tolerances, three_way_match
from erpcore.domain.money import line_amounts, show_money, show_qty
from erpcore.domain.status import SalesOrderStatus, sales_order_status
from erpcore.domain.stock import Balance, below_safety, issue_value, reservable


def test_every_posting_balances_and_names_its_party() -> None:
    cases = [
        postings.shipment(D("15.00")),
        postings.customer_invoice(7, D("100.00"), D("20.00")),
        postings.customer_receipt(7, D("120.00")),
        postings.goods_receipt(D("50.00")),
        postings.supplier_invoice(3, D("50.00"), D("52.00"), D("10.40")),
        postings.supplier_payment(3, D("62.40")),
        postings.capital_injection(D("1000.00")),
    ]
    for lines in cases:
        assert postings.is_balanced(lines)
        assert postings.is_balanced(postings.reversal(lines))
    ar = [line for line in cases[1] if line.role is Role.AR]
    assert ar[0].customer_id == 7 and ar[0].debit == D("120.00")


def test_price_variance_side_follows_its_sign() -> None:
    cheaper = postings.supplier_invoice(3, D("50.00"), D("48.00"), D("0"))
    variance = next(line for line in cheaper if line.role is Role.PRICE_VARIANCE)
    assert variance.credit == D("2.00") and variance.debit == 0
    exact = postings.supplier_invoice(3, D("50.00"), D("50.00"), D("0"))
    assert all(line.role is not Role.PRICE_VARIANCE for line in exact)


def test_reversal_swaps_sides() -> None:
    original = postings.shipment(D("9.99"))
    assert [(r.debit, r.credit) for r in postings.reversal(original)] == [(o.credit, o.debit) for o in original]


@pytest.mark.parametrize(("qty", "price", "matched"), [
    ("10", "5.00", True), ("10", "5.10", True), ("10", "5.11", False), ("10", "4.89", False), ("11", "5.00", False),
])
def test_three_way_match_within_tolerance(qty: str, price: str, matched: bool) -> None:
    line = MatchLine(1, "SKU", D("5.00"), D("10"), D("0"), D(qty), D(price))
    assert three_way_match([line], Tolerances(price=D("0.02"))).matched is matched


def test_three_way_match_counts_earlier_invoices() -> None:
    line = MatchLine(1, "SKU", D("5.00"), D("10"), D("8"), D("3"), D("5.00"))
    result = three_way_match([line], Tolerances())
    assert not result.matched and "only 2 received and not yet invoiced" in result.reason


def test_moving_average_issue_leaves_no_residue() -> None:
    b = Balance(D("3"), D("0"), D("10.00"))
    assert issue_value(b, D("1")) == D("3.33")
    assert issue_value(b, D("3")) == D("10.00")
    assert b.average_cost == D("3.3333")


def test_reservation_and_safety_arithmetic() -> None:
    b = Balance(D("10"), D("7"), D("0"))
    assert reservable(D("5"), b) == D("3")
    assert reservable(D("2"), b) == D("2")
    assert below_safety(D("10"), D("7"), D("4"))
    assert not below_safety(D("10"), D("7"), D("0"))


def test_line_amounts_round_half_up_to_the_cent() -> None:
    assert line_amounts(D("3"), D("0.335"), D("0.20")) == (D("1.01"), D("0.20"))


def test_derived_sales_order_status() -> None:
    assert sales_order_status([(D(5), D(0), D(0))], False) is SalesOrderStatus.APPROVED
    assert sales_order_status([(D(5), D(2), D(0))], False) is SalesOrderStatus.PARTLY_SHIPPED
    assert sales_order_status([(D(5), D(5), D(0))], False) is SalesOrderStatus.SHIPPED
    assert sales_order_status([(D(5), D(5), D(5))], False) is SalesOrderStatus.INVOICED
    assert sales_order_status([(D(5), D(5), D(5))], True) is SalesOrderStatus.CLOSED


def test_numbers_for_people() -> None:
    assert show_qty(D("12.0000")) == "12" and show_qty(D("0")) == "0"
    assert show_money(D("5.2000")) == "5.20" and show_money(D("0.1234")) == "0.1234"
