"""Returns, reversals and replenishment rules without a database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erpcore.domain import postings, returns, transitions
from erpcore.domain.postings import is_balanced
from erpcore.domain.replenishment import Position, after_cancelled_demand, to_requisition
from erpcore.domain.stock import Balance
from erpcore.exceptions import InsufficientStock, InvalidTransition, ValidationFailed

SOURCES = {7: returns.Source(D(5), D(2)), 8: returns.Source(D(3), D(0))}


def test_a_line_returns_at_most_what_it_moved_less_earlier_returns() -> None:
    assert returns.quantities_to_return("shipment S", SOURCES, {7: D(3)}) == {7: D(3)}
    with pytest.raises(ValidationFailed, match=r"over-return: line 7 moved 5, 2 already returned, 3.5 requested "
                                               r"\(at most 3\)"):
        returns.quantities_to_return("shipment S", SOURCES, {7: D("3.5")})


@pytest.mark.parametrize(("requested", "message"), [
    ({9: D(1)}, "shipment S has no line 9"),
    ({8: D(0)}, "quantity must be positive"),
    ({8: D(-1)}, "quantity must be positive"),
    ({}, "needs at least one line"),
])
def test_unknown_lines_and_non_positive_quantities_are_refused(requested: dict[int, D], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        returns.quantities_to_return("shipment S", SOURCES, requested)


def test_nothing_requested_returns_all_that_is_left_and_refuses_when_nothing_is() -> None:
    assert returns.quantities_to_return("shipment S", SOURCES, None) == {7: D(3), 8: D(3)}
    with pytest.raises(ValidationFailed, match="nothing left to return"):
        returns.quantities_to_return("shipment S", {1: returns.Source(D(2), D(2))}, None)


def test_a_customer_return_needs_the_goods_invoiced() -> None:
    returns.require_invoiced(1, D(4), D(1), D(3))
    with pytest.raises(ValidationFailed, match="only 3 invoiced and not yet credited; cancel the uninvoiced"):
        returns.require_invoiced(1, D(4), D(1), D(4))


def test_shares_add_up_to_the_line_exactly_whatever_the_rounding() -> None:
    line = returns.Source(D(3), D(0))
    amount = returns.Shared(D("10.01"))
    first = returns.share(amount, line, D(1))
    second = returns.share(returns.Shared(D("10.01"), first), returns.Source(D(3), D(1)), D(1))
    last = returns.share(returns.Shared(D("10.01"), first + second), returns.Source(D(3), D(2)), D(1))
    assert (first, second, last) == (D("3.34"), D("3.34"), D("3.33"))
    assert first + second + last == D("10.01")


def test_unbilled_goods_go_back_first() -> None:
    assert returns.split_billed(D(5), D(3)) == (D(3), D(2))
    assert returns.split_billed(D(2), D(3)) == (D(2), D(0))
    assert returns.split_billed(D(2), D(-1)) == (D(0), D(2))  # billed over received, within tolerance


def test_stock_leaves_at_receipt_cost_but_never_more_than_the_balance_holds() -> None:
    b = Balance(D(10), D(2), D(100))
    assert returns.stock_out("GRN", "SKU", b, D(4), D(48)) == D(48)
    assert returns.stock_out("GRN", "SKU", Balance(D(4), D(0), D(30)), D(4), D(48)) == D(30)  # the last units
    with pytest.raises(InsufficientStock, match="has 8 free, 9 to send back"):
        returns.stock_out("GRN", "SKU", b, D(9), D(90))


def test_a_receipt_reverses_only_when_stock_can_give_back_its_exact_value() -> None:
    assert returns.reversible("GRN", "SKU", Balance(D(10), D(0), D(100)), D(4), D(40)) == Balance(D(6), D(0), D(60))
    with pytest.raises(InsufficientStock, match="reversing 50.00 would leave 10.00 on 0"):
        returns.reversible("GRN", "SKU", Balance(D(10), D(0), D(60)), D(10), D(50))
    with pytest.raises(InsufficientStock, match="has 1 free"):
        returns.reversible("GRN", "SKU", Balance(D(3), D(2), D(30)), D(2), D(20))


def test_return_postings_balance_and_name_the_party() -> None:
    credit = postings.customer_return(9, D("30.00"), D("50.00"), D("10.00"))
    assert is_balanced(credit)
    assert {(p.role.value, p.debit, p.credit, p.customer_id) for p in credit} == {
        ("inventory", D("30.00"), 0, None), ("cost_of_goods_sold", 0, D("30.00"), None),
        ("revenue", D("50.00"), 0, None), ("output_vat", D("10.00"), 0, None),
        ("accounts_receivable", 0, D("60.00"), 9)}
    debit = postings.supplier_return(4, D("47.00"), D("12.00"), D("36.00"), D("7.20"))
    assert is_balanced(debit)
    assert {(p.role.value, p.debit, p.credit) for p in debit} == {
        ("inventory", 0, D("47.00")), ("goods_received_not_invoiced", D("12.00"), 0),
        ("accounts_payable", D("43.20"), 0), ("input_vat", 0, D("7.20")), ("price_variance", 0, D("1.00"))}  # billed above receipt cost: the variance goes back


def test_the_new_cancels_are_in_the_transition_table() -> None:
    transitions.require("purchase requisition", "cancel", "open", "PR-1")
    for document, status in (("purchase requisition", "ordered"), ("goods receipt", "cancelled"),
                             ("customer receipt", "cancelled"), ("supplier payment", "cancelled")):
        with pytest.raises(InvalidTransition, match=f"{document} X is {status}"):
            transitions.require(document, "cancel", status, "X")


def test_safety_stock_counts_what_is_on_order_and_requisitioned() -> None:
    # the bug: 50 on an open PO, free stock 2 under a safety level of 10, and a requisition raised anyway
    assert to_requisition(Position(D(2), D(0), on_order=D(50)), D(10), D(40)).quantity == 0
    assert to_requisition(Position(D(5), D(3), requisitioned=D(5)), D(10), D(0)).quantity == D(3)
    assert to_requisition(Position(D(5), D(3)), D(10), D(20)).quantity == D(20)
    assert to_requisition(Position(D(12), D(0)), D(10), D(20)).quantity == 0
    decision = to_requisition(Position(D(2), D(0), on_order=D(4), requisitioned=D(1)), D(10), D(0))
    assert decision.quantity == D(3)
    assert "available to promise 7" in decision.reason
    assert Position(D(5), D(3), D(4), D(1)).available_to_promise == D(7)


def test_a_withdrawn_demand_reduces_or_cancels_its_requisition() -> None:
    assert after_cancelled_demand(D(5), D(2)) == D(3)
    assert after_cancelled_demand(D(5), D(5)) == 0
    assert after_cancelled_demand(D(5), D(9)) == 0


def test_a_note_settles_what_its_invoice_still_owes_and_refunds_the_rest() -> None:
    assert returns.settle(D("12.00"), D("48.00")) == (D("12.00"), D(0))
    assert returns.settle(D("12.00"), D("5.00")) == (D("5.00"), D("7.00"))
    assert returns.settle(D("12.00"), D("-3.00")) == (D(0), D("12.00"))
    refunded = postings.customer_return(9, D("6.00"), D("10.00"), D("2.00"), refund=D("12.00"))
    assert is_balanced(refunded) and {p.role.value for p in refunded} >= {"bank"}
    assert not [p for p in refunded if p.role.value == "accounts_receivable"]
