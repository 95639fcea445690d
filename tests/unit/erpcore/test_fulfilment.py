"""Shipping, receiving, reservation, credit and settlement decisions, with no database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erpcore.domain import fulfilment
from erpcore.domain.fulfilment import RECEIVING, SHIPPING, LineToReserve, OpenLine
from erpcore.domain.stock import Balance
from erpcore.exceptions import Conflict, CreditLimitExceeded, InsufficientStock, ValidationFailed

LINES = {1: OpenLine(D(5), D(2)), 2: OpenLine(D(3), D(3)), 3: OpenLine(D(4), D(0))}


def test_nothing_requested_moves_everything_still_open() -> None:
    assert fulfilment.quantities_to_move("SO 1", LINES, None, SHIPPING) == {1: D(3), 3: D(4)}


def test_a_document_with_nothing_open_refuses_a_move_of_everything() -> None:
    with pytest.raises(Conflict, match="SO 1 has nothing left to ship"):
        fulfilment.quantities_to_move("SO 1", {2: LINES[2]}, None, SHIPPING)


@pytest.mark.parametrize(("requested", "message"), [
    ({}, "needs at least one line"),
    ({9: D(1)}, "has no line 9"),
    ({1: D(0)}, "quantity must be positive"),
    ({1: D(-1)}, "quantity must be positive"),
    ({1: D("3.0001")}, "over-shipment: line 1 has 3 open, 3.0001 requested"),
])
def test_bad_shipments_are_refused_with_the_line_named(requested: dict[int, D], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        fulfilment.quantities_to_move("SO 1", LINES, requested, SHIPPING)


def test_over_receipt_speaks_of_receiving() -> None:
    with pytest.raises(ValidationFailed, match="over-receipt: line 3 has 4 open, 5 received"):
        fulfilment.quantities_to_move("PO 1", LINES, {3: D(5)}, RECEIVING)


def test_exactly_what_is_open_may_move() -> None:
    assert fulfilment.quantities_to_move("SO 1", LINES, {1: D(3)}, SHIPPING) == {1: D(3)}


KEY_A, KEY_B = (1, 1), (2, 1)


def test_reservation_takes_free_stock_line_by_line_and_reports_the_shortfall() -> None:
    balances = {KEY_A: Balance(D(10), D(4), D(100)), KEY_B: Balance(D(2), D(0), D(20))}
    plan, after = fulfilment.plan_reservation(
        "SO 1", [LineToReserve(1, KEY_A, D(5)), LineToReserve(2, KEY_A, D(3)), LineToReserve(3, KEY_B, D(1))],
        balances, backorder_allowed=True)
    assert plan.reserved == {1: D(5), 2: D(1), 3: D(1)}
    assert plan.shortfall == {2: D(2)}
    assert after[KEY_A] == Balance(D(10), D(10), D(100))
    assert after[KEY_B] == Balance(D(2), D(1), D(20))
    assert balances[KEY_A].reserved == D(4)  # the input is not changed


def test_without_backorders_a_line_that_cannot_be_covered_refuses_the_approval() -> None:
    with pytest.raises(InsufficientStock, match="SO 1 line 2: 3 wanted, 1 free"):
        fulfilment.plan_reservation("SO 1", [LineToReserve(1, KEY_A, D(5)), LineToReserve(2, KEY_A, D(3))],
                                    {KEY_A: Balance(D(6), D(0), D(60))}, backorder_allowed=False)


def test_nothing_free_reserves_nothing() -> None:
    plan, _ = fulfilment.plan_reservation("SO 1", [LineToReserve(1, KEY_A, D(2))],
                                          {KEY_A: Balance(D(3), D(3), D(30))}, backorder_allowed=True)
    assert plan.reserved == {1: D(0)} and plan.shortfall == {1: D(2)}


@pytest.mark.parametrize(("limit", "open_ar", "order", "refused"), [
    (D(0), D(10**9), D(10**9), False),  # 0: no limit
    (D(100), D(60), D(40), False),  # exactly at the limit
    (D(100), D(60), D("40.01"), True),
    (D(100), D(0), D(101), True),
])
def test_credit_limit(limit: D, open_ar: D, order: D, refused: bool) -> None:
    if refused:
        with pytest.raises(CreditLimitExceeded, match="customer 7 credit limit"):
            fulfilment.check_credit(7, limit, open_ar, order)
    else:
        fulfilment.check_credit(7, limit, open_ar, order)


def test_settlement_defaults_to_the_open_amount() -> None:
    assert fulfilment.settlement("receipt", D("12.50"), None) == D("12.50")
    assert fulfilment.settlement("receipt", D("12.50"), D("2.50")) == D("2.50")


@pytest.mark.parametrize(("requested", "message"), [
    (D(0), "must be positive"), (D(-1), "must be positive"), (D("12.51"), "exceeds the open amount 12.50")])
def test_settlement_refuses_nothing_negative_or_more_than_open(requested: D, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        fulfilment.settlement("receipt", D("12.50"), requested)
