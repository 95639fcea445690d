"""Bills of materials and work order costing as plain functions: explosion, scrap, cycles, roll-up, receipts."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erpcore.domain import postings, production
from erpcore.domain.accounts import Role
from erpcore.domain.production import BomLine, CostLine
from erpcore.exceptions import ValidationFailed

D = Decimal
# F = 1 S + 3 A (5% scrap); S = 2 A + 1 B (10% scrap); A and B are purchased
BOMS = {10: [BomLine(20, D(1)), BomLine(1, D(3), D("0.05"))],
        20: [BomLine(1, D(2)), BomLine(2, D(1), D("0.10"))]}


def test_one_level_requirements_apply_the_scrap_factor() -> None:
    assert production.requirements(BOMS[10], D(4)) == {20: D(4), 1: D("12.6")}
    assert BomLine(2, D("0.3333"), D("0.10")).gross(D(7)) == D("2.5664")  # 7 x 0.3333 x 1.1 = 2.56641


def test_explosion_walks_every_level_depth_first_with_gross_quantities() -> None:
    rows = production.explode(BOMS, 10, D(4))
    assert [(r.level, r.parent_id, r.component_id, r.quantity, r.manufactured) for r in rows] == [
        (1, 10, 20, D(4), True), (2, 20, 1, D(8), False), (2, 20, 2, D("4.4"), False), (1, 10, 1, D("12.6"), False)]
    assert production.leaf_requirements(BOMS, 10, D(4)) == {1: D("20.6"), 2: D("4.4")}


def test_a_manufactured_components_scrap_multiplies_down_the_levels() -> None:
    boms = {1: [BomLine(2, D(1), D("0.5"))], 2: [BomLine(3, D(2), D("0.25"))]}
    assert production.leaf_requirements(boms, 1, D(10)) == {3: D("37.5")}  # 10 x 1.5 = 15 -> 15 x 2 x 1.25


def test_an_item_without_a_bom_cannot_be_exploded() -> None:
    with pytest.raises(ValidationFailed, match="item 1 has no bill of materials"):
        production.explode(BOMS, 1, D(1))


def test_a_cycle_is_refused_naming_it() -> None:
    with pytest.raises(ValidationFailed, match="cycle: item 1 -> item 20 -> item 1"):
        production.require_acyclic(BOMS, 1, [BomLine(20, D(1))])
    with pytest.raises(ValidationFailed, match="cycle: item 10 -> item 20 -> item 10"):
        production.explode({**BOMS, 20: [BomLine(10, D(1))]}, 10, D(1))
    production.require_acyclic(BOMS, 30, [BomLine(10, D(1)), BomLine(20, D(1))])  # a diamond is no cycle


@pytest.mark.parametrize(("lines", "why"), [
    ([], "at least one component"),
    ([BomLine(2, D(0))], "quantity per unit must be positive"),
    ([BomLine(2, D(1), D(1))], "scrap factor must be at least 0 and below 1"),
    ([BomLine(2, D(1), D("-0.1"))], "scrap factor"),
    ([BomLine(5, D(1))], "cannot be a component of itself"),
    ([BomLine(2, D(1)), BomLine(2, D(1))], "listed twice"),
])
def test_a_bom_is_validated_before_anything_is_written(lines: list[BomLine], why: str) -> None:
    with pytest.raises(ValidationFailed, match=why):
        production.validate_bom(5, lines)


def test_the_rolled_up_cost_sums_purchased_components_over_every_level() -> None:
    costs = {1: D("2.00"), 2: D("5.00")}
    assert production.rolled_up_cost(BOMS, 20, costs) == D("9.5000")  # 2 x 2.00 + 1.1 x 5.00
    assert production.rolled_up_cost(BOMS, 10, costs) == D("15.8000")  # 9.50 + 3.15 x 2.00
    assert production.rolled_up_cost(BOMS, 1, costs) == D("2.00")


def test_finished_goods_take_all_of_wip_or_their_share_of_it() -> None:
    assert production.receipt_value(D("66.44"), D(4), D(4)) == D("66.44")
    assert production.receipt_value(D("66.44"), D(4), D(3)) == D("49.83")
    assert production.receipt_value(D("10.00"), D(3), D(1)) == D("3.33")
    with pytest.raises(ValidationFailed, match="5 received but only 4 planned"):
        production.require_receivable(7, D(4), D(5))
    with pytest.raises(ValidationFailed, match="must be positive"):
        production.require_receivable(7, D(4), D(0))


def test_production_cost_compares_planned_and_actual() -> None:
    cost = production.production_cost([CostLine(1, D(4), D("38.00"), D(4), D("38.72")),
                                       CostLine(2, D("12.6"), D("25.20"), D("12.6"), D("27.72"))],
                                      received_cost=D("49.83"), variance=D("16.61"))
    assert (cost.planned_cost, cost.issued_cost, cost.cost_difference, cost.in_wip) == (
        D("63.20"), D("66.44"), D("3.24"), D(0))


def test_production_postings_balance_and_name_wip() -> None:
    issue = postings.material_issue(D("96.80"))
    assert [(x.role, x.debit, x.credit) for x in issue] == [(Role.WIP, D("96.80"), 0), (Role.INVENTORY, 0, D("96.80"))]
    assert [(x.role, x.debit, x.credit) for x in postings.finished_goods_receipt(D(5))] == [
        (Role.INVENTORY, D(5), 0), (Role.WIP, 0, D(5))]
    # a work order that received more value than it issued (negative WIP) credits the variance
    assert [(x.role, x.debit, x.credit) for x in postings.production_variance(D("-0.01"))] == [
        (Role.PRODUCTION_VARIANCE, 0, D("0.01")), (Role.WIP, D("0.01"), 0)]
    assert postings.production_variance(D(0)) == []
    assert all(postings.is_balanced(p) for p in (issue, postings.production_variance(D("16.61"))))


def test_a_work_order_too_small_or_too_large_for_a_line_is_refused() -> None:
    production.require_plannable(D(4), {1: D("12.6")}, {1: D("2.00")})
    with pytest.raises(ValidationFailed, match="at four decimal places: plan a larger quantity"):
        production.require_plannable(D("0.0001"), {1: D(0)}, {1: D("2.00")})
    with pytest.raises(ValidationFailed, match="more than a document line may carry"):
        production.require_plannable(D("1e13"), {1: D("3e13")}, {1: D("2.00")})
    with pytest.raises(ValidationFailed, match="more than a document line may carry"):
        production.require_plannable(D("1e11"), {1: D("1e11")}, {1: D("50.00")})
