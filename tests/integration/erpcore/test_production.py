"""Plan-to-produce on both engines: two-level BOMs, work orders from plan to close, postings to the cent.

The expected figures are worked out by hand in the comments: moving-average issue values, the rolled-up
actual cost of the finished goods, and the variance a short receipt leaves at close.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select, text

from erpcore.check import run_check
from erpcore.exceptions import Conflict, InsufficientStock, InvalidTransition, ValidationFailed
from erpcore.models import PurchaseRequisition, StockBalance, WorkOrder
from erpcore.services import master, production, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.production import BomLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import World, make_world, stock_up, uid

D = Decimal


def _item(erp: Erp, cost: str, procurement: str = "purchased", supplier: int | None = None) -> int:
    return master.create_item(erp.uow(), uid("SKU"), "part", D(cost), D("1.00"), procurement=procurement,
                              default_supplier_id=supplier).id


@pytest.fixture
def plant(erp: Erp) -> tuple[World, dict[str, int]]:
    """Purchased A (standard 2.00) and B (5.00); sub-assembly S = 2 A + 1 B (10% scrap); F = 1 S + 3 A (5% scrap).

    Stock: A 100 @ 2.10 then 50 @ 2.40 (150 units, 330.00); B 50 @ 4.80 (240.00).
    """
    w = make_world(erp)
    a, b = _item(erp, "2.00", supplier=w.supplier_id), _item(erp, "5.00", supplier=w.supplier_id)
    s, f = _item(erp, "0", "manufactured"), _item(erp, "0", "manufactured")
    production.create_bom(erp.uow(), s, [BomLineInput(a, D(2)), BomLineInput(b, D(1), D("0.10"))])
    production.create_bom(erp.uow(), f, [BomLineInput(s, D(1)), BomLineInput(a, D(3), D("0.05"))])
    stock_up(w, "100", "2.10", a)
    stock_up(w, "50", "2.40", a)
    stock_up(w, "50", "4.80", b)
    return w, {"A": a, "B": b, "S": s, "F": f}


def _postings(engine: Engine, wo_id: int) -> dict[tuple[str, str], tuple[Decimal, Decimal]]:
    """(event, account role) -> (debit, credit) of a work order's journal entries, to the cent."""
    rows = text("SELECT je.event, a.role, SUM(jl.debit), SUM(jl.credit) FROM journal_entry je "
                "JOIN journal_line jl ON jl.journal_entry_id = je.id JOIN account a ON a.id = jl.account_id "
                "WHERE je.source_type = 'work_order' AND je.source_id = :id GROUP BY je.event, a.role")
    with engine.connect() as conn:
        return {(e, r): (D(str(dr)).quantize(D("0.01")), D(str(cr)).quantize(D("0.01")))
                for e, r, dr, cr in conn.execute(rows, {"id": wo_id})}


def _balance(engine: Engine, item: int) -> tuple[Decimal, Decimal, Decimal]:
    with engine.connect() as conn:
        b = conn.execute(select(StockBalance.on_hand, StockBalance.reserved, StockBalance.value_amount)
                         .where(StockBalance.item_id == item)).one()
    return D(str(b[0])).quantize(D("0.0001")), D(str(b[1])).quantize(D("0.0001")), D(str(b[2])).quantize(D("0.01"))


def test_two_levels_from_plan_to_close_post_to_the_cent(erp: Erp, plant: tuple[World, dict[str, int]]) -> None:
    _, i = plant
    # S x 10: A 20, B 11 (10 x 1 x 1.10); planned at standard: 20 x 2.00 + 11 x 5.00 = 95.00
    wo_s = production.plan_work_order(erp.uow(), i["S"], D(10))
    assert wo_s.status == "planned" and wo_s.row["planned_cost"] == D("95.00")
    assert [(line["item_id"], line["quantity"]) for line in wo_s.lines] == [(i["A"], D(20)), (i["B"], D(11))]
    released = production.release_work_order(erp.uow(), wo_s.id)
    assert released.status == "released" and [line["qty_reserved"] for line in released.lines] == [D(20), D(11)]
    assert _balance(erp.engine, i["A"])[1] == D(20)
    # issue at moving average: A 330.00 x 20/150 = 44.00; B 240.00 x 11/50 = 52.80; total 96.80
    issued = production.issue_materials(erp.uow(), wo_s.id)
    assert issued.row["issued_cost"] == D("96.80")
    assert [line["issued_cost"] for line in issued.lines] == [D("44.00"), D("52.80")]
    assert _postings(erp.engine, wo_s.id) == {("issue", "work_in_progress"): (D("96.80"), D("0.00")),
                                               ("issue", "inventory"): (D("0.00"), D("96.80"))}
    received = production.receive_finished_goods(erp.uow(), wo_s.id)
    assert received.row["received_cost"] == D("96.80")
    assert _balance(erp.engine, i["S"]) == (D(10), D(0), D("96.80"))
    closed = production.close_work_order(erp.uow(), wo_s.id)
    assert closed.status == "closed" and closed.row["variance_amount"] == D(0)
    assert ("close", "production_variance") not in _postings(erp.engine, wo_s.id)

    # F x 4: S 4, A 12.6 (4 x 3 x 1.05); planned: S rolled up 2 x 2.00 + 1.1 x 5.00 = 9.50 -> 38.00,
    # A 12.6 x 2.00 = 25.20; 63.20
    wo_f = production.plan_work_order(erp.uow(), i["F"], D(4))
    assert wo_f.row["planned_cost"] == D("63.20")
    assert [line["planned_unit_cost"] for line in wo_f.lines] == [D("9.50"), D("2.00")]
    production.release_work_order(erp.uow(), wo_f.id)
    # S 96.80 x 4/10 = 38.72; A (330.00 - 44.00) x 12.6/130 = 27.72; 66.44
    assert production.issue_materials(erp.uow(), wo_f.id).row["issued_cost"] == D("66.44")
    # 3 of 4 good: 66.44 x 3/4 = 49.83 into stock; 16.61 stays in WIP until close
    assert production.receive_finished_goods(erp.uow(), wo_f.id, D(3)).row["received_cost"] == D("49.83")
    assert run_check(erp.engine).ok, run_check(erp.engine).violations
    production.close_work_order(erp.uow(), wo_f.id)
    assert _postings(erp.engine, wo_f.id) == {
        ("issue", "work_in_progress"): (D("66.44"), D("0.00")), ("issue", "inventory"): (D("0.00"), D("66.44")),
        ("receive", "inventory"): (D("49.83"), D("0.00")), ("receive", "work_in_progress"): (D("0.00"), D("49.83")),
        ("close", "production_variance"): (D("16.61"), D("0.00")),
        ("close", "work_in_progress"): (D("0.00"), D("16.61"))}
    assert _balance(erp.engine, i["F"]) == (D(3), D(0), D("49.83"))
    assert _balance(erp.engine, i["A"]) == (D("117.4"), D(0), D("258.28"))  # 150 - 20 - 12.6; 330 - 44 - 27.72
    report = run_check(erp.engine)
    assert report.ok, report.violations
    assert {"wip_matches_open_work_orders", "work_orders_cost_through"} <= set(report.checked)


def test_release_short_requisitions_purchased_and_plans_manufactured_components(
        erp: Erp, plant: tuple[World, dict[str, int]]) -> None:
    _, i = plant
    wo = production.plan_work_order(erp.uow(), i["F"], D(100))  # S 100 (none made), A 315 (150 on hand)
    production.release_work_order(erp.uow(), wo.id)
    with erp.engine.connect() as conn:
        child = conn.execute(select(WorkOrder.item_id, WorkOrder.quantity, WorkOrder.reason, WorkOrder.status)
                             .where(WorkOrder.parent_id == wo.id)).one()
        req = conn.execute(select(PurchaseRequisition.item_id, PurchaseRequisition.quantity,
                                  PurchaseRequisition.reason).where(PurchaseRequisition.item_id == i["A"])).one()
    assert (child.item_id, D(str(child.quantity)), child.reason, child.status) == (i["S"], D(100), "component",
                                                                                   "planned")
    assert (req.item_id, D(str(req.quantity)), req.reason) == (i["A"], D(165), "work_order")  # 315 - 150
    with pytest.raises(InsufficientStock, match="free stock beyond its reservation"):
        production.issue_materials(erp.uow(), wo.id)
    assert _balance(erp.engine, i["A"])[1] == D(150)
    cancelled = production.cancel_work_order(erp.uow(), wo.id)
    assert cancelled.status == "cancelled" and all(line["qty_reserved"] == 0 for line in cancelled.lines)
    assert _balance(erp.engine, i["A"]) == (D(150), D(0), D("330.00"))
    with pytest.raises(InvalidTransition, match="only planned or released"):
        production.cancel_work_order(erp.uow(), wo.id)
    assert run_check(erp.engine).ok


def test_boms_refuse_cycles_duplicates_and_purchased_items(erp: Erp, plant: tuple[World, dict[str, int]]) -> None:
    _, i = plant
    x, y = _item(erp, "0", "manufactured"), _item(erp, "0", "manufactured")
    production.create_bom(erp.uow(), x, [BomLineInput(y, D(1))])
    with pytest.raises(ValidationFailed, match=f"cycle: item {y} -> item {x} -> item {y}"):
        production.create_bom(erp.uow(), y, [BomLineInput(x, D(1))])
    with pytest.raises(ValidationFailed, match="only a manufactured item"):
        production.create_bom(erp.uow(), i["A"], [BomLineInput(i["B"], D(1))])
    with pytest.raises(ValidationFailed, match="listed twice"):
        production.create_bom(erp.uow(), y, [BomLineInput(i["A"], D(1)), BomLineInput(i["A"], D(2))])
    with pytest.raises(Conflict, match="already has"):
        production.create_bom(erp.uow(), i["S"], [BomLineInput(i["A"], D(1))])
    with pytest.raises(ValidationFailed, match="no bill of materials"):
        production.plan_work_order(erp.uow(), y, D(1))
    with erp.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(WorkOrder)) == 0


def test_a_sales_order_short_of_a_manufactured_item_plans_a_work_order_that_serves_it(
        erp: Erp, plant: tuple[World, dict[str, int]]) -> None:
    w, i = plant
    order = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(i["S"], D(5), D("30.00"))])
    sales.approve_sales_order(erp.uow(), order.id)
    with erp.engine.connect() as conn:
        wo_id, qty, reason = conn.execute(select(WorkOrder.id, WorkOrder.quantity, WorkOrder.reason)
                                          .where(WorkOrder.sales_order_line_id == order.lines[0]["id"])).one()
        assert conn.scalar(select(func.count()).select_from(PurchaseRequisition)
                           .where(PurchaseRequisition.item_id == i["S"])) == 0
    assert (D(str(qty)), reason) == (D(5), "shortage")
    from erpcore.services import production_views

    instruction = production_views.shipping_instruction(erp.engine, order.id)
    assert instruction["status"] == "open" and instruction["lines"] == [
        {"line_no": 1, "item_id": i["S"], "quantity": "5.0000"}]
    for step in (production.release_work_order, production.issue_materials, production.receive_finished_goods):
        step(erp.uow(), wo_id)
    assert _balance(erp.engine, i["S"])[:2] == (D(5), D(5))  # made for the order: reserved for its line
    shipment = sales.ship_sales_order(erp.uow(), order.id)
    # S x 5 at the work order's actual cost: A 330 x 10/150 = 22.00, B 240 x 5.5/50 = 26.40 -> 48.40
    assert shipment.row["cost_amount"] == D("48.40")
    assert run_check(erp.engine).ok


def test_the_check_catches_wip_that_does_not_match_the_work_orders(
        erp: Erp, plant: tuple[World, dict[str, int]]) -> None:
    _, i = plant
    wo = production.plan_work_order(erp.uow(), i["S"], D(1))
    production.release_work_order(erp.uow(), wo.id)
    production.issue_materials(erp.uow(), wo.id)
    assert run_check(erp.engine).ok
    with erp.engine.begin() as conn:  # a work order whose recorded cost drifted from its postings and lines
        conn.execute(text("UPDATE work_order SET issued_cost = issued_cost + 1 WHERE id = :id"), {"id": wo.id})
    failed = {v.invariant for v in run_check(erp.engine).violations}
    assert failed == {"wip_matches_open_work_orders", "work_orders_cost_through"}
    with erp.engine.begin() as conn:
        conn.execute(text("UPDATE work_order SET issued_cost = issued_cost - 1 WHERE id = :id"), {"id": wo.id})
        conn.execute(text("UPDATE work_order_line SET qty_reserved = 1 WHERE work_order_id = :id"), {"id": wo.id})
    assert {v.invariant for v in run_check(erp.engine).violations} == {"reservations_match_balances"}
