"""The business rules as plain functions: each rule firing and not firing, modes, approval progress and SoD."""

from __future__ import annotations

from decimal import Decimal

import pytest

from erpcore.domain import rules
from erpcore.domain.rules import (
    BudgetPosition,
    Control,
    Decision,
    Facts,
    Finding,
    Mode,
    Rule,
    SalesLineFacts,
    Step,
    TaxLineFacts,
)
from erpcore.exceptions import (
    CreditLimitExceeded,
    RuleBlocked,
    SegregationOfDuties,
    TaxDataInvalid,
    ValidationFailed,
)

STOP = Control("budget", Mode.STOP)
D = Decimal


def _position(budget: str | None, committed: str = "0", actual: str = "0") -> BudgetPosition:
    return BudgetPosition("OPS", "2026-11", None if budget is None else D(budget), D(committed), D(actual))


def test_budget_fires_over_the_remaining_amount_and_not_within_it() -> None:
    [f] = rules.check_budget(STOP, "purchase order", D("401"), _position("1000", "500", "100"))
    assert f.rule == "budget" and "remaining budget of department OPS for 2026-11: 400.00" in f.message
    assert rules.check_budget(STOP, "purchase order", D("400"), _position("1000", "500", "100")) == []


def test_budget_does_not_fire_without_a_budget_or_when_off() -> None:
    assert rules.check_budget(STOP, "po", D("1e9"), _position(None)) == []
    assert rules.check_budget(Control("budget", Mode.OFF), "po", D("1e9"), _position("1")) == []


def test_verdict_raises_on_stop_names_the_rule_and_returns_warnings() -> None:
    warn = Finding("budget", "over", Mode.WARN)
    assert rules.verdict([warn]) == [warn]
    with pytest.raises(RuleBlocked, match=r"^rule price_below_cost: low \(and 1 more\)$") as caught:
        rules.verdict([warn, Finding("price_below_cost", "low", Mode.STOP), Finding("budget", "x", Mode.STOP)])
    findings = caught.value.details["findings"]
    assert caught.value.details["rule"] == "price_below_cost" and isinstance(findings, list) and len(findings) == 2
    with pytest.raises(TaxDataInvalid):
        rules.verdict([Finding("tax_data", "bad", Mode.STOP)])
    with pytest.raises(CreditLimitExceeded):
        rules.verdict([Finding("credit_limit", "over", Mode.STOP)])


PRICE, DISCOUNT = Control("price_below_cost", Mode.STOP), Control("discount_limit", Mode.STOP, {"max_percent": "30"})


def test_price_below_cost_fires_on_the_issue_example_and_not_at_list_price() -> None:
    low = SalesLineFacts(1, D("0.01"), D(0), D("12.00"), D("19.59"))
    [f] = rules.check_prices(PRICE, DISCOUNT, "sales order", [low])
    assert f.rule == "price_below_cost" and "net price 0.01 is below cost 12.00 (list price 19.59)" in f.message
    assert rules.check_prices(PRICE, DISCOUNT, "so", [SalesLineFacts(1, D("19.59"), D(0), D("12"), D("19.59"))]) == []


def test_a_discount_that_takes_the_net_price_below_cost_fires_too() -> None:
    line = SalesLineFacts(2, D("20.00"), D("25"), D("16.00"), D("20.00"))  # net 15.00
    assert [f.rule for f in rules.check_prices(PRICE, DISCOUNT, "so", [line])] == ["price_below_cost"]


def test_discount_limit_fires_only_past_the_configured_limit() -> None:
    over = SalesLineFacts(1, D("100"), D("30.5"), D("1"), D("100"))
    assert [f.rule for f in rules.check_prices(PRICE, DISCOUNT, "so", [over])] == ["discount_limit"]
    at = SalesLineFacts(1, D("100"), D("30"), D("1"), D("100"))
    assert rules.check_prices(PRICE, DISCOUNT, "so", [at]) == []
    unlimited = Control("discount_limit", Mode.STOP)
    assert rules.check_prices(PRICE, unlimited, "so", [over]) == []


CREDIT = Control("credit_limit", Mode.STOP)


def test_credit_counts_uninvoiced_orders() -> None:
    [f] = rules.check_credit(CREDIT, "C1", D("1000"), D("300"), D("600"), D("101"))
    assert "open invoices 300.00 + approved orders not invoiced 600.00 + this order 101.00" in f.message
    assert rules.check_credit(CREDIT, "C1", D("1000"), D("300"), D("600"), D("100")) == []
    assert rules.check_credit(CREDIT, "C1", D("0"), D("300"), D("600"), D("1e9")) == []  # 0: no limit


TAX = Control("tax_data", Mode.STOP, {"tax_id_required_above": "1000", "zero_rate_needs_tax_id": True})


def test_tax_rate_not_the_items_fires() -> None:
    [f] = rules.check_tax(TAX, "so", [TaxLineFacts(1, D("10.00"), D("0.50"), D("0.05"), D("0.20"))], D("10.5"), "X")
    assert "tax rate 0.05 is not its item's tax code rate 0.2" in f.message


def test_tax_amount_not_the_rounded_product_fires() -> None:
    [f] = rules.check_tax(TAX, "so", [TaxLineFacts(1, D("10.05"), D("2.00"), D("0.2"), D("0.2"))], D("12"), "X")
    assert "tax 2.00 is not 10.05 x 0.2 rounded (2.01)" in f.message
    assert rules.check_tax(TAX, "so", [TaxLineFacts(1, D("10.05"), D("2.01"), D("0.2"), D("0.2"))], D("12"), "X") == []


def test_missing_tax_id_fires_for_zero_rate_and_above_the_threshold() -> None:
    zero = TaxLineFacts(1, D("10.00"), D("0"), D("0"), D("0"))
    assert [f.message for f in rules.check_tax(TAX, "so", [zero], D("10"), None)] == [
        "so line 1: zero-rated, but the partner has no tax id"]
    std = TaxLineFacts(1, D("1000.00"), D("200.00"), D("0.2"), D("0.2"))
    assert len(rules.check_tax(TAX, "so", [std], D("1200.00"), None)) == 1
    assert rules.check_tax(TAX, "so", [std], D("1200.00"), "GB1") == []
    assert rules.check_tax(Control("tax_data", Mode.STOP), "so", [zero, std], D("1e9"), None) == []


def _rule(code: str, priority: int = 100, **conditions: object) -> Rule:
    return Rule(code, "purchase_order", rules.parse_conditions(conditions), (Step(("finance",)),), priority)


def test_approval_conditions_must_all_hold() -> None:
    facts = Facts("purchase_order", D("5000"), supplier="S1", department="OPS", categories=frozenset({"it"}))
    assert rules.matches(_rule("a", amount_over=1000, supplier=["S1", "S2"], department="OPS",
                               item_category=["it", "x"]), facts)
    assert not rules.matches(_rule("b", amount_over=5000), facts)  # over, not at
    assert not rules.matches(_rule("c", supplier=["S2"]), facts)
    assert not rules.matches(_rule("d", item_category=["food"]), facts)
    assert not rules.matches(_rule("e"), Facts("sales_order", D(1)))
    so = Facts("sales_order", D(10), customer="C9", max_discount=D(25))
    assert rules.matches(Rule("f", "sales_order", rules.parse_conditions({"discount_over": 20, "customer": "C9"}),
                              (Step(("finance",)),)), so)


def test_required_approvals_follow_priority_then_code() -> None:
    codes, steps = rules.required_approvals([_rule("z", 5), _rule("a", 5), _rule("big", 1, amount_over=10**6)],
                                            Facts("purchase_order", D(10)))
    assert codes == ["a", "z"] and len(steps) == 2


def test_parse_refuses_unknown_conditions_roles_and_counts() -> None:
    with pytest.raises(ValidationFailed, match="unknown colour"):
        rules.parse_conditions({"colour": "red"})
    with pytest.raises(ValidationFailed, match="not a number"):
        rules.parse_conditions({"amount_over": "lots"})
    with pytest.raises(ValidationFailed, match="unknown role"):
        rules.parse_steps([{"roles": ["pope"]}], ["finance"])
    with pytest.raises(ValidationFailed, match="required must be"):
        rules.parse_steps([{"roles": ["finance"], "required": 0}], ["finance"])
    assert rules.parse_steps([{"roles": ["finance"], "required": 2}], ["finance"]) == (Step(("finance",), 2),)


STEPS = [Step(("purchasing",)), Step(("finance", "admin"), 2)]


def test_progress_walks_steps_in_sequence_and_n_of_m() -> None:
    assert rules.progress(STEPS, []).step_no == 1
    one = [Decision(1, "bob", "purchasing", "approve")]
    assert rules.progress(STEPS, one).step_no == 2
    two = [*one, Decision(2, "carol", "finance", "approve")]
    assert "1 more approver" in rules.progress(STEPS, two).reason
    assert rules.progress(STEPS, [*two, Decision(2, "ann", "admin", "approve")]).done
    assert rules.progress(STEPS, [Decision(1, "bob", "purchasing", "reject")]).rejected


def test_decisions_refuse_the_creator_a_second_vote_and_a_wrong_role() -> None:
    with pytest.raises(SegregationOfDuties, match="sod.creator_approves"):
        rules.check_decision(STEPS, [], "alice", "purchasing", "alice", "PO 1")
    with pytest.raises(RuleBlocked, match="needs role purchasing, not finance"):
        rules.check_decision(STEPS, [], "carol", "finance", "alice", "PO 1")
    one = [Decision(1, "bob", "purchasing", "approve")]
    with pytest.raises(SegregationOfDuties, match="sod.distinct_approvers"):
        rules.check_decision(STEPS, one, "bob", "finance", "alice", "PO 1")
    assert rules.check_decision(STEPS, one, "carol", "finance", "alice", "PO 1") == 2
    assert rules.check_decision(STEPS, [], "root", "admin", "alice", "PO 1") == 1  # an admin may stand in


def test_the_creator_may_not_pay_but_the_system_and_others_may() -> None:
    with pytest.raises(SegregationOfDuties, match="sod.creator_pay"):
        rules.check_not_creator("pay", "carol", "carol", "SI 1")
    rules.check_not_creator("pay", "carol", "dave", "SI 1")
    rules.check_not_creator("pay", None, "dave", "SI 1")  # entered before creators were recorded
    rules.check_not_creator("pay", "system", "system", "SI 1")


def test_conflicting_permissions_are_reported_per_role() -> None:
    found = rules.conflicting_permissions({"finance": {"purchase.invoice.post", "purchase.payment.post"},
                                           "sales": {"sales:write"}})
    assert found == [{"role": "finance", "permissions": "purchase.invoice.post + purchase.payment.post",
                      "conflict": "one person enters supplier invoices and pays them"}]
    assert rules.conflicting_permissions({"clerk": {"purchase.payment.post"}}) == []
