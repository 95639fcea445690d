"""Cancels that must re-derive what they touch, and the period guard, through the services on both engines."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import select

from erpcore.access import AccessRole, Actor
from erpcore.check import run_check
from erpcore.exceptions import Conflict, Forbidden, PeriodClosed
from erpcore.models import PurchaseRequisition, StockReservation
from erpcore.services import periods, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.sales import OrderLineInput
from tests.factories import make_world, stock_up

FINANCE = Actor("fiona", AccessRole.FINANCE)


def test_a_cancelled_shipment_gives_its_order_the_reservation_back(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "4")
    first = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    sales.approve_sales_order(erp.uow(), first)
    shipment = sales.ship_sales_order(erp.uow(), first, {1: Decimal(2)}).id
    assert sales.cancel_shipment(erp.uow(), shipment).status == "cancelled"
    with erp.engine.connect() as conn:
        reserved = conn.execute(select(StockReservation.quantity)).scalar_one()
    assert Decimal(reserved) == Decimal(4)
    assert sales.cancel_sales_order(erp.uow(), first).status == "cancelled"  # it ships nothing now
    assert run_check(erp.engine).ok


def test_cancelling_a_shipment_reserves_again_only_what_the_line_still_needs(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "6")
    order = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    sales.approve_sales_order(erp.uow(), order)
    first = sales.ship_sales_order(erp.uow(), order, {1: Decimal(1)}).id
    sales.ship_sales_order(erp.uow(), order, {1: Decimal(3)})
    before = _requisitions(erp)
    sales.cancel_shipment(erp.uow(), first)  # 1 back: the line needs 1 again, and 1 is reserved for it
    with erp.engine.connect() as conn:
        assert Decimal(conn.execute(select(StockReservation.quantity)).scalar_one()) == Decimal(1)
    assert _requisitions(erp) == before
    assert run_check(erp.engine).ok


def _requisitions(erp: Erp) -> int:
    with erp.engine.connect() as conn:
        return len(conn.execute(select(PurchaseRequisition.id)).all())


def test_a_closed_month_refuses_postings_and_a_reopened_one_takes_them(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "5")
    month_ago = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    closed = periods.close_period(erp.uow(FINANCE), f"{month_ago:%Y-%m}")
    assert closed.row["status"] == "closed" and closed.row["closed_by"] == "fiona"
    order = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))],
                                     order_date=month_ago).id
    sales.approve_sales_order(erp.uow(), order)
    with pytest.raises(PeriodClosed, match=f"{month_ago:%Y-%m} is closed"):
        sales.ship_sales_order(erp.uow(), order, ship_date=month_ago)
    with pytest.raises(Forbidden):
        periods.reopen_period(erp.uow(FINANCE), f"{month_ago:%Y-%m}")
    periods.reopen_period(erp.uow(), f"{month_ago:%Y-%m}")
    sales.ship_sales_order(erp.uow(), order, ship_date=month_ago)
    with pytest.raises(Conflict, match="is not closed"):
        periods.reopen_period(erp.uow(), f"{month_ago:%Y-%m}")
    assert run_check(erp.engine).ok
