from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from erpcore.check import run_check
from erpcore.exceptions import InsufficientStock, InvalidTransition, ValidationFailed
from erpcore.models import JournalEntry, PurchaseRequisition, SalesOrder, StockBalance, StockMove
from erpcore.services import sales
from erpcore.services.bootstrap import Erp
from erpcore.services.sales import OrderLineInput
from tests.factories import make_world, reserved, stock_up


def _requisitions(erp: Erp, item: int) -> list[tuple[str, Decimal]]:
    with erp.session_factory() as s:
        return [(r.reason, r.quantity) for r in s.scalars(
            select(PurchaseRequisition).where(PurchaseRequisition.item_id == item).order_by(PurchaseRequisition.id))]


def test_approval_reserves_what_it_can_and_requisitions_the_rest(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "3")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))]).id
    assert reserved(sales.approve_sales_order(erp.uow(), so)) == {1: Decimal(3)}
    assert _requisitions(erp, w.item_id) == [("shortage", Decimal(2))]
    with erp.session_factory() as s:
        bal = s.get(StockBalance, (w.item_id, 1))
        assert bal is not None and bal.reserved == 3 and bal.on_hand == 3


def test_safety_stock_raises_one_requisition_not_one_per_movement(erp: Erp) -> None:
    w = make_world(erp, safety="5", reorder="20")
    stock_up(w, "12")
    for _ in range(4):  # free stock goes 12 -> 10 -> 8 -> 6 -> 4: under 5 once, and stays under
        so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(2))]).id
        sales.approve_sales_order(erp.uow(), so)
        sales.ship_sales_order(erp.uow(), so)
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))]).id
    sales.approve_sales_order(erp.uow(), so)
    assert _requisitions(erp, w.item_id) == [("safety_stock", Decimal(20))]
    assert run_check(erp.engine).ok


def test_order_without_backorder_is_refused_whole_and_writes_nothing(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "2")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))],
                                  backorder_allowed=False).id
    with pytest.raises(InsufficientStock, match="allows no backorder"):
        sales.approve_sales_order(erp.uow(), so)
    with erp.session_factory() as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so)) == "draft"
        bal = s.get(StockBalance, (w.item_id, 1))
        assert bal is not None and bal.reserved == 0
    assert _requisitions(erp, w.item_id) == []


def test_over_shipment_and_bad_quantities_are_refused(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10")
    with pytest.raises(ValidationFailed, match="quantity must be positive"):
        sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(-1))])
    with pytest.raises(ValidationFailed, match="unknown item"):
        sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(999999, Decimal(1))])
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    sales.approve_sales_order(erp.uow(), so)
    with pytest.raises(ValidationFailed, match="over-shipment"):
        sales.ship_sales_order(erp.uow(), so, {1: Decimal(5)})
    with erp.session_factory() as s:
        assert s.scalars(select(StockMove).where(StockMove.source_type == "shipment")).all() == []


def test_cancelled_shipment_and_invoice_net_to_zero(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10", price="6.00")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    sales.approve_sales_order(erp.uow(), so)
    shp = sales.ship_sales_order(erp.uow(), so).id
    inv = sales.invoice_sales_order(erp.uow(), so).id
    with pytest.raises(InvalidTransition, match="cancel the invoice first"):
        sales.cancel_shipment(erp.uow(), shp)
    sales.cancel_customer_invoice(erp.uow(), inv)
    sales.cancel_shipment(erp.uow(), shp)
    with erp.session_factory() as s:
        bal = s.get(StockBalance, (w.item_id, 1))
        assert bal is not None and bal.on_hand == 10 and bal.value_amount == Decimal("60.00")
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so)) == "approved"
        events = sorted((e.source_type, e.event) for e in s.scalars(select(JournalEntry)))
        assert ("customer_invoice", "cancel") in events and ("shipment", "cancel") in events
    assert run_check(erp.engine).ok


def test_cancel_order_releases_reservations(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    sales.approve_sales_order(erp.uow(), so)
    sales.cancel_sales_order(erp.uow(), so)
    with erp.session_factory() as s:
        bal = s.get(StockBalance, (w.item_id, 1))
        assert bal is not None and bal.reserved == 0
    with pytest.raises(InvalidTransition):
        sales.approve_sales_order(erp.uow(), so)
    assert run_check(erp.engine).ok


def test_moving_average_cost_flows_to_cogs(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10", price="4.00")
    stock_up(w, "10", price="6.00")  # average 5.00
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(3))]).id
    sales.approve_sales_order(erp.uow(), so)
    shp = sales.ship_sales_order(erp.uow(), so).id
    with erp.session_factory() as s:
        move = s.scalars(select(StockMove).where(StockMove.source_id == shp, StockMove.source_type == "shipment")).one()
        assert move.value_amount == Decimal("-15.00")


def test_legal_numbers_are_gap_free_per_year(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10")
    for _ in range(3):
        so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))]).id
        sales.approve_sales_order(erp.uow(), so)
        sales.ship_sales_order(erp.uow(), so)
        sales.invoice_sales_order(erp.uow(), so)
    # a failed posting takes no number
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))]).id
    with pytest.raises(InvalidTransition):
        sales.invoice_sales_order(erp.uow(), so)
    with erp.session_factory() as s:
        numbers = s.scalars(select(JournalEntry.number).order_by(JournalEntry.number)).all()
    seq = [int(n.rsplit("-", 1)[1]) for n in numbers]
    assert seq == list(range(1, len(seq) + 1))


def test_credit_limit_refuses_approval_with_its_own_code(erp: Erp) -> None:
    from erpcore.exceptions import CreditLimitExceeded

    w = make_world(erp, credit_limit="30")
    stock_up(w, "10")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))]).id  # 60.00
    with pytest.raises(CreditLimitExceeded, match="credit limit 30.00 exceeded") as caught:
        sales.approve_sales_order(erp.uow(), so)
    assert caught.value.code == "credit_limit_exceeded" and caught.value.status_code == 409


def test_master_data_lengths_are_checked_before_the_database(erp: Erp) -> None:
    from erpcore.services import master

    with pytest.raises(ValidationFailed, match="code is 41 characters long; at most 40"):
        master.create_customer(erp.uow(), "C" * 41, "Too long")
    with pytest.raises(ValidationFailed, match="name must not be empty"):
        master.create_supplier(erp.uow(), "S-EMPTY", "  ")
