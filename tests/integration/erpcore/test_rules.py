"""Business rules on both engines: each control firing and not firing inside the write, the refusal recorded in
`rule_block` (and an alert) although the write rolled back, approval workflows edited live, and segregation of
duties."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, insert, select, text, update

from erpcore.access import AccessRole, Actor
from erpcore.check import run_check
from erpcore.exceptions import CreditLimitExceeded, RuleBlocked, SegregationOfDuties, TaxDataInvalid
from erpcore.models import Customer, Department, OutboxMessage, PurchaseOrder, RuleBlock, SalesOrder
from erpcore.reports_budget import budget_report
from erpcore.services import budgets, purchasing, rulebook, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import World, make_world, stock_up, uid

ALICE = Actor("alice", AccessRole.PURCHASING)  # buyer: enters purchase orders
BOB = Actor("bob", AccessRole.PURCHASING)
CAROL = Actor("carol", AccessRole.FINANCE)
DAVE = Actor("dave", AccessRole.FINANCE)
SAM = Actor("sam", AccessRole.SALES)
TODAY = dt.date.today()
PERIOD = f"{TODAY.year:04d}-{TODAY.month:02d}"


def _department(erp: Erp) -> tuple[int, str]:
    code = uid("D")
    with erp.engine.begin() as conn:
        dept = conn.execute(insert(Department).values(code=code, name="Operations", cost_centre="CC1")
                            .returning(Department.id)).scalar_one()
    return int(dept), code


def _blocks(erp: Erp, rule: str | None = None) -> list[Any]:
    with erp.engine.connect() as conn:
        stmt = select(RuleBlock).order_by(RuleBlock.id)
        return list(conn.execute(stmt if rule is None else stmt.where(RuleBlock.rule == rule)))


def _alerts(erp: Erp) -> list[dict[str, Any]]:
    with erp.engine.connect() as conn:
        return [dict(p) for p in conn.execute(select(OutboxMessage.payload).where(OutboxMessage.topic == "alert"))
                .scalars()]


def _count(erp: Erp, model: Any) -> int:
    with erp.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def _po(erp: Erp, w: World, amount: str, actor: Actor = ALICE, department: int | None = None) -> int:
    return purchasing.create_purchase_order(erp.uow(actor), w.supplier_id, [
        PurchaseLineInput(w.item_id, Decimal(1), Decimal(amount))], department_id=department).id


def _load_default(erp: Erp) -> None:
    rulebook.load_rulebook(erp.uow(), rulebook.read_rulebook(rulebook.DEFAULT_RULEBOOK))


def test_the_issue_repro_a_huge_purchase_order_is_blocked_by_budget_and_named(erp: Erp) -> None:
    _load_default(erp)
    w = make_world(erp)
    dept, code = _department(erp)
    budgets.set_budget(erp.uow(CAROL), code, "1200", PERIOD, Decimal("50000.00"))
    pos_before = _count(erp, PurchaseOrder)
    with pytest.raises(RuleBlocked, match="rule budget:.*9999900000.00 exceeds the remaining budget") as caught:
        _po(erp, w, "9999900000.00", department=dept)
    assert caught.value.details["rule"] == "budget" and caught.value.status_code == 409
    assert _count(erp, PurchaseOrder) == pos_before  # the write rolled back ...
    [block] = _blocks(erp, "budget")  # ... and its refusal is committed apart
    assert (block.actor, block.action, block.outcome) == ("alice", "purchase_order.create", "blocked")
    assert any(a["alertname"] == "BusinessRuleBlocked" and a["labels"]["rule"] == "budget" for a in _alerts(erp))
    # without a department no budget applies, but the approval rules hold it: it waits for two more people
    po = _po(erp, w, "9999900000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), po).status == "pending_approval"


def test_budget_counts_committed_and_actual_and_a_purchase_within_it_passes(erp: Erp) -> None:
    w = make_world(erp)
    dept, code = _department(erp)
    budgets.set_budget(erp.uow(CAROL), code, "1200", PERIOD, Decimal("1000.00"))
    first = _po(erp, w, "600.00", department=dept)
    purchasing.approve_purchase_order(erp.uow(BOB), first)  # committed 600
    purchasing.receive_goods(erp.uow(), first)
    inv = purchasing.register_supplier_invoice(erp.uow(BOB), first, "S-1", [InvoiceLineInput(1, Decimal(1),
                                                                                              Decimal("250.00"))])
    assert inv.status == "on_hold"  # invoiced at another price: held, so nothing is actual yet
    _po(erp, w, "400.00", department=dept)  # 600 committed + 400 = the budget: passes
    with pytest.raises(RuleBlocked, match="remaining budget .*: 400.00"):
        _po(erp, w, "400.01", department=dept)
    with erp.engine.connect() as conn:
        [line] = budget_report(conn, PERIOD, code)
    assert (line["budget"], line["committed"], line["actual"], line["remaining"]) == (
        Decimal("1000.00"), Decimal("600.00"), Decimal("0.00"), Decimal("400.00"))


def test_actual_comes_from_the_ledger_once_invoiced(erp: Erp) -> None:
    w = make_world(erp)
    dept, code = _department(erp)
    budgets.set_budget(erp.uow(CAROL), code, "1200", PERIOD, Decimal("1000.00"))
    po = _po(erp, w, "300.00", department=dept)
    purchasing.approve_purchase_order(erp.uow(BOB), po)
    purchasing.receive_goods(erp.uow(), po)
    inv = purchasing.register_supplier_invoice(erp.uow(BOB), po, "S-1", [InvoiceLineInput(1, Decimal(1),
                                                                                           Decimal("300.00"))])
    assert inv.status == "matched"
    with erp.engine.connect() as conn:
        [line] = budget_report(conn, PERIOD, code)
    assert (line["committed"], line["actual"], line["remaining"]) == (
        Decimal("0.00"), Decimal("300.00"), Decimal("700.00"))


def test_budget_in_warn_mode_lets_the_purchase_through_with_an_alert(erp: Erp) -> None:
    w = make_world(erp)
    dept, code = _department(erp)
    budgets.set_budget(erp.uow(CAROL), code, "1200", PERIOD, Decimal("100.00"))
    rulebook.set_control(erp.uow(), "budget", {"mode": "warn"})
    po = _po(erp, w, "150.00", department=dept)
    [warned] = _blocks(erp, "budget")
    assert warned.outcome == "warned" and warned.document_type == "purchase_order"
    assert any(a["alertname"] == "BusinessRuleWarning" for a in _alerts(erp))
    rulebook.set_control(erp.uow(), "budget", {"mode": "off"})
    purchasing.approve_purchase_order(erp.uow(BOB), po)
    assert len(_blocks(erp, "budget")) == 1


def test_the_issue_repro_a_sale_far_below_cost_is_blocked_and_at_list_price_passes(erp: Erp) -> None:
    w = make_world(erp, price="19.59", cost="12.00")
    stock_up(w, "10")
    with pytest.raises(RuleBlocked, match=r"rule price_below_cost: sales order line 1: net price 0.01 is below "
                                          r"cost 12.00 \(list price 19.59\)"):
        sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(1),
                                                                              Decimal("0.01"))])
    assert _count(erp, SalesOrder) == 0
    [block] = _blocks(erp, "price_below_cost")
    assert (block.actor, block.action, block.document_id) == ("sam", "sales_order.create", None)
    order = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))])
    assert order.status == "draft" and order.row["created_by"] == "sam"


def test_discount_beyond_the_configured_limit_is_blocked(erp: Erp) -> None:
    _load_default(erp)  # discount_limit 30%
    w = make_world(erp, price="100.00", cost="10.00")
    with pytest.raises(RuleBlocked, match="discount 35% is over the limit 30%"):
        sales.create_sales_order(erp.uow(SAM), w.customer_id, [
            OrderLineInput(w.item_id, Decimal(1), discount_percent=Decimal(35))])
    assert sales.create_sales_order(erp.uow(SAM), w.customer_id, [
        OrderLineInput(w.item_id, Decimal(1), discount_percent=Decimal(30))]).status == "draft"


def test_credit_limit_counts_approved_orders_not_yet_invoiced(erp: Erp) -> None:
    w = make_world(erp, price="100.00", cost="10.00", credit_limit="1000")
    stock_up(w, "20")
    first = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))]).id
    sales.approve_sales_order(erp.uow(SAM), first)  # 600.00 with tax, approved and not invoiced
    second = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(4))]).id
    with pytest.raises(CreditLimitExceeded, match="approved orders not invoiced 600.00 \\+ this order 480.00"):
        sales.approve_sales_order(erp.uow(SAM), second)
    [block] = _blocks(erp, "credit_limit")
    assert block.document_id == second and block.action == "sales_order.approve"
    small = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(3))]).id
    assert sales.approve_sales_order(erp.uow(SAM), small).status == "approved"  # 600 + 360 within 1000


def test_tax_data_errors_are_refused_with_422(erp: Erp) -> None:
    rulebook.set_control(erp.uow(), "tax_data", {"mode": "stop", "tax_id_required_above": "500"})
    w = make_world(erp, price="100.00", cost="10.00")
    with pytest.raises(TaxDataInvalid, match="rule tax_data: .*over 500.00 and the partner has no tax id") as caught:
        sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))])
    assert caught.value.status_code == 422
    with erp.engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.id == w.customer_id).values(tax_id="GB123456789"))
    assert sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))]).id
    assert [b.rule for b in _blocks(erp)] == ["tax_data"]


def test_approval_in_sequence_with_segregation_of_duties(erp: Erp) -> None:
    rulebook.set_rule(erp.uow(), {"code": "po-two-steps", "document_type": "purchase_order",
                                  "conditions": {"amount_over": "1000"},
                                  "steps": [{"roles": ["purchasing"]}, {"roles": ["finance"], "required": 2}]})
    w = make_world(erp)
    po = _po(erp, w, "5000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), po).status == "pending_approval"
    with pytest.raises(SegregationOfDuties, match="rule sod.creator_approves: alice created purchase order"):
        purchasing.decide_purchase_order(erp.uow(ALICE), po, "approve")
    with pytest.raises(RuleBlocked, match="step 1 .* needs role purchasing, not finance"):
        purchasing.decide_purchase_order(erp.uow(CAROL), po, "approve")
    assert purchasing.decide_purchase_order(erp.uow(BOB), po, "approve").status == "pending_approval"
    with pytest.raises(SegregationOfDuties, match="bob has already decided"):
        purchasing.decide_purchase_order(erp.uow(BOB), po, "approve")
    after_carol = purchasing.decide_purchase_order(erp.uow(CAROL), po, "approve")
    assert after_carol.status == "pending_approval" and "1 more approver" in after_carol.row["approval"]
    done = purchasing.decide_purchase_order(erp.uow(DAVE), po, "approve")
    assert done.status == "approved" and done.row["approved_at"] is not None
    assert [b.rule for b in _blocks(erp)] == ["sod.creator_approves", "approval", "sod.distinct_approvers"]
    assert run_check(erp.engine).ok


def test_a_rejection_returns_the_order_to_draft_and_a_resubmission_starts_again(erp: Erp) -> None:
    rulebook.set_rule(erp.uow(), {"code": "po-any", "document_type": "purchase_order", "steps": [
        {"roles": ["finance"]}]})
    w = make_world(erp)
    po = _po(erp, w, "10.00")
    purchasing.approve_purchase_order(erp.uow(ALICE), po)
    rejected = purchasing.decide_purchase_order(erp.uow(CAROL), po, "reject", "wrong supplier")
    assert rejected.status == "draft" and "rejected by carol" in rejected.row["approval"]
    assert purchasing.approve_purchase_order(erp.uow(ALICE), po).status == "pending_approval"
    assert purchasing.decide_purchase_order(erp.uow(CAROL), po, "approve").status == "approved"


def test_a_live_rule_edit_applies_to_the_next_document_and_not_to_pending_ones(erp: Erp) -> None:
    w = make_world(erp)
    before = _po(erp, w, "2000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), before).status == "approved"
    rulebook.set_rule(erp.uow(), {"code": "po-2k", "document_type": "purchase_order",
                                  "conditions": {"amount_over": "1000", "supplier": [_supplier_code(erp, w)]},
                                  "steps": [{"roles": ["finance"]}]})
    pending = _po(erp, w, "2000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), pending).status == "pending_approval"
    rulebook.set_rule(erp.uow(), {"code": "po-2k", "document_type": "purchase_order",
                                  "conditions": {"amount_over": "5000"}, "steps": [{"roles": ["finance"]}]})
    after = _po(erp, w, "2000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), after).status == "approved"
    rulebook.delete_rule(erp.uow(), "po-2k")
    # the pending order keeps the step it was submitted with
    assert purchasing.decide_purchase_order(erp.uow(CAROL), pending, "approve").status == "approved"


def _supplier_code(erp: Erp, w: World) -> str:
    from erpcore.models import Supplier

    with erp.engine.connect() as conn:
        return str(conn.execute(select(Supplier.code).where(Supplier.id == w.supplier_id)).scalar_one())


def test_sales_order_approval_by_item_category_reserves_on_the_last_approval(erp: Erp) -> None:
    rulebook.set_rule(erp.uow(), {"code": "so-hazard", "document_type": "sales_order",
                                  "conditions": {"item_category": ["hazardous"]},
                                  "steps": [{"roles": ["finance", "sales"], "required": 1}]})
    w = make_world(erp, price="50.00", cost="10.00")
    stock_up(w, "10")
    plain = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(1))]).id
    assert sales.approve_sales_order(erp.uow(SAM), plain).status == "approved"
    with erp.engine.begin() as conn:
        from erpcore.models import Item

        conn.execute(update(Item).where(Item.id == w.item_id).values(category="hazardous"))
    order = sales.create_sales_order(erp.uow(SAM), w.customer_id, [OrderLineInput(w.item_id, Decimal(2))]).id
    pending = sales.approve_sales_order(erp.uow(SAM), order)
    assert pending.status == "pending_approval"
    with pytest.raises(SegregationOfDuties):
        sales.decide_sales_order(erp.uow(SAM), order, "approve")
    done = sales.decide_sales_order(erp.uow(CAROL), order, "approve")
    assert done.status == "approved" and [Decimal(x["qty_reserved"]) for x in done.lines] == [Decimal(2)]
    assert run_check(erp.engine).ok


def test_whoever_entered_a_supplier_invoice_may_not_pay_it(erp: Erp) -> None:
    w = make_world(erp)
    po = _po(erp, w, "5.00", actor=ALICE)
    purchasing.approve_purchase_order(erp.uow(ALICE), po)
    purchasing.receive_goods(erp.uow(), po)
    inv = purchasing.register_supplier_invoice(erp.uow(CAROL), po, "S-1", [InvoiceLineInput(1, Decimal(1),
                                                                                            Decimal("5.00"))])
    with pytest.raises(SegregationOfDuties, match="rule sod.creator_pay: carol entered supplier invoice"):
        purchasing.pay_supplier_invoice(erp.uow(CAROL), inv.id)
    [block] = _blocks(erp)
    assert (block.rule, block.document_id, block.action) == ("sod.creator_pay", inv.id, "supplier_invoice.pay")
    assert purchasing.pay_supplier_invoice(erp.uow(DAVE), inv.id).row["amount"] == Decimal("6.00")


def test_another_process_edit_applies_to_the_next_document_through_the_version(erp: Erp) -> None:
    """Each process caches the rulebook; the version row, bumped with every edit, makes it re-read."""
    from erpcore.models import ApprovalRule, RulebookVersion
    from erpcore.services import controls

    w = make_world(erp)
    rulebook.set_rule(erp.uow(), {"code": "po-any", "document_type": "purchase_order",
                                  "steps": [{"roles": ["finance"]}]})
    first = _po(erp, w, "10.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), first).status == "pending_approval"
    with erp.engine.begin() as conn:  # an edit that does not bump the version: the cache still answers
        conn.execute(update(ApprovalRule).values(conditions={"amount_over": "1000"}))
    cached = _po(erp, w, "10.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), cached).status == "pending_approval"
    with erp.engine.begin() as conn:  # as `rulebook` does in another process: bump the version with the edit
        conn.execute(update(RulebookVersion).values(version=RulebookVersion.version + 1))
    after = _po(erp, w, "10.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), after).status == "approved"
    with erp.engine.connect() as conn:
        assert controls.rulebook(conn).for_type("purchase_order")[0].conditions == {"amount_over": "1000"}


def test_a_custom_role_s_refusal_is_recorded_under_its_name(erp: Erp) -> None:
    """A custom role's actor carries its role as a plain name, not an enum: its refusal is a 409 recorded with
    that name (it was an AttributeError, a 500, when the approval and the block record read `role.value`)."""
    from erpcore.services import roles

    grants = ["purchase.order.read", "purchase.order.approve"]
    roles.create_role(erp.uow(), "buying_desk", grants, "desk")
    desk = Actor("dina", "buying_desk", grants=frozenset(grants))
    rulebook.set_rule(erp.uow(), {"code": "po-review", "document_type": "purchase_order",
                                  "conditions": {"amount_over": "1000"}, "steps": [{"roles": ["purchasing"]}]})
    w = make_world(erp)
    po = _po(erp, w, "5000.00")
    assert purchasing.approve_purchase_order(erp.uow(ALICE), po).status == "pending_approval"
    with pytest.raises(RuleBlocked, match="step 1 .* needs role purchasing, not buying_desk"):
        purchasing.decide_purchase_order(erp.uow(desk), po, "approve")
    assert purchasing.decide_purchase_order(erp.uow(BOB), po, "approve").status == "approved"
    with erp.engine.connect() as conn:
        blocked = conn.execute(select(RuleBlock.actor, RuleBlock.role, RuleBlock.rule)).all()
        decided = conn.execute(text("SELECT actor, role FROM approval")).all()
    assert [tuple(b) for b in blocked] == [("dina", "buying_desk", "approval")]
    assert [tuple(a) for a in decided] == [("bob", "purchasing")]
