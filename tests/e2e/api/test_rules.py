"""Controls over HTTP: each violation refused naming its rule with a `rule_block` row, live rule edits applying to
the next document, segregation of duties, the budget report, and hostile rulebook input refused unwritten."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import func, insert, select, update

from erpcore.models import ApprovalRule, Customer, Department, PurchaseOrder, RuleBlock, SalesOrder
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid

TODAY = dt.date.today()
PERIOD = f"{TODAY.year:04d}-{TODAY.month:02d}"


def put(api: Api, path: str, body: Any, role: str = "admin") -> httpx.Response:
    return api.client.request("PUT", V1 + path, json=body, headers=api.headers(role))


def delete(api: Api, path: str, role: str = "admin") -> httpx.Response:
    return api.client.request("DELETE", V1 + path, headers=api.headers(role))


def count(api: Api, model: Any) -> int:
    with api.erp.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def department(api: Api) -> tuple[int, str]:
    code = uid("D")
    with api.erp.engine.begin() as conn:
        dept = conn.execute(insert(Department).values(code=code, name="Ops", cost_centre="CC")
                            .returning(Department.id)).scalar_one()
    return int(dept), code


def refused(response: httpx.Response, status: int, code: str, rule: str) -> dict[str, Any]:
    """A refusal naming `rule` in its detail and its details."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code and body["details"]["rule"] == rule and f"rule {rule}" in body["detail"], body
    return dict(body)


def blocks(api: Api, rule: str) -> list[dict[str, Any]]:
    return list(api.ok(api.get("/rule-blocks", rule=rule, role="finance")))


def po_body(w: dict[str, int], price: str, department_id: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"supplier_id": w["supplier_id"],
                            "lines": [{"item_id": w["item_id"], "quantity": "1", "unit_price": price}]}
    if department_id is not None:
        body["department_id"] = department_id
    return body


RULEBOOK = {
    "controls": {"budget": {"mode": "stop"}, "discount_limit": {"mode": "stop", "max_percent": "30"},
                 "tax_data": {"mode": "stop", "tax_id_required_above": "5000"}},
    "approval_rules": [{"code": "po-large", "document_type": "purchase_order", "conditions": {"amount_over": 100000},
                        "steps": [{"roles": ["finance"]}]}],
}


def test_the_issue_repro_is_blocked_naming_the_rule_and_recorded(api: Api) -> None:
    api.ok(api.post("/rules/load", RULEBOOK))
    w = api.world(price="19.59", cost="12.00")
    dept, code = department(api)
    api.ok(put(api, "/budgets", {"department": code, "account": "1200", "period": PERIOD, "amount": "50000"},
               role="finance"))
    pos = count(api, PurchaseOrder)
    refused(api.post("/purchase-orders", po_body(w, "9999900000.00", dept), role="purchasing"), 409,
            "rule_blocked", "budget")
    assert count(api, PurchaseOrder) == pos
    [block] = blocks(api, "budget")
    assert block["outcome"] == "blocked" and block["action"] == "purchase_order.create"
    assert block["actor"] == "test-purchasing" and block["role"] == "purchasing"
    # no department: the approval rules send it to pending approval instead of approving it
    po = api.ok(api.post("/purchase-orders", po_body(w, "9999900000.00"), role="purchasing"), 201)
    assert api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))["status"] == "pending_approval"
    # a sales line at 0.01 against a list price of 19.59
    api.stock_up(w["supplier_id"], w["item_id"], "5", "12.00")
    sos = count(api, SalesOrder)
    body = refused(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1", "unit_price": "0.01"}]}, role="sales"), 409, "rule_blocked",
        "price_below_cost")
    assert "below cost 12.00 (list price 19.59)" in body["detail"] and count(api, SalesOrder) == sos
    assert len(blocks(api, "price_below_cost")) == 1


def test_discount_credit_and_tax_violations_are_each_refused_and_recorded(api: Api) -> None:
    api.ok(api.post("/rules/load", RULEBOOK))
    w = api.world(price="100.00", cost="10.00")
    api.stock_up(w["supplier_id"], w["item_id"], "100", "10.00")

    def order(qty: str, discount: str = "0") -> httpx.Response:
        return api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
            {"item_id": w["item_id"], "quantity": qty, "discount_percent": discount}]}, role="sales")

    refused(order("1", "31"), 409, "rule_blocked", "discount_limit")
    refused(order("50"), 422, "tax_data_invalid", "tax_data")  # 6,000.00 and no tax id
    with api.erp.engine.begin() as conn:
        conn.execute(update(Customer).where(Customer.id == w["customer_id"]).values(credit_limit=1000))
    first = api.ok(order("5"), 201)
    api.ok(api.post(f"/sales-orders/{first['id']}/approve", role="sales"))
    second = api.ok(order("4"), 201)
    refused(api.post(f"/sales-orders/{second['id']}/approve", role="sales"), 409, "credit_limit_exceeded",
            "credit_limit")
    assert api.ok(api.get(f"/sales-orders/{second['id']}"))["status"] == "draft"
    rules = [b["rule"] for b in api.ok(api.get("/rule-blocks", role="finance"))]
    assert sorted(rules) == ["credit_limit", "discount_limit", "tax_data"]
    with api.erp.engine.connect() as conn:
        assert conn.execute(select(RuleBlock.document_id).where(RuleBlock.rule == "credit_limit")).scalar_one() \
            == second["id"]


def test_a_live_rule_edit_applies_to_the_next_order_and_the_creator_never_approves(api: Api) -> None:
    w = api.world()
    rule = {"document_type": "purchase_order", "conditions": {"amount_over": "100"},
            "steps": [{"roles": ["purchasing"], "required": 1}], "description": "over 100 needs a buyer"}
    created = api.ok(put(api, "/rules/approval-rules/po-over-100", rule))
    assert created["version"] == 1 and created["conditions"] == {"amount_over": "100"}
    po = api.ok(api.post("/purchase-orders", po_body(w, "500.00"), role="purchasing"), 201)
    assert api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))["status"] == "pending_approval"
    refused(api.post(f"/purchase-orders/{po['id']}/decision", {"decision": "approve"}, role="purchasing"), 409,
            "segregation_of_duties", "sod.creator_approves")
    assert blocks(api, "sod.creator_approves")[0]["document_id"] == po["id"]
    refused(api.post(f"/purchase-orders/{po['id']}/decision", {"decision": "approve"}, role="finance"), 409,
            "rule_blocked", "approval")  # the step needs a buyer
    assert api.ok(api.get(f"/purchase-orders/{po['id']}"))["status"] == "pending_approval"
    po2 = api.ok(api.post("/purchase-orders", po_body(w, "500.00"), role="admin"), 201)
    api.ok(api.post(f"/purchase-orders/{po2['id']}/approve", role="admin"))
    decided = api.ok(api.post(f"/purchase-orders/{po2['id']}/decision", {"decision": "approve", "comment": "ok"},
                              role="purchasing"))
    assert decided["status"] == "approved" and decided["approval"] == "every step is approved"
    history = api.ok(api.get(f"/approvals/purchase_order/{po2['id']}", role="finance"))
    assert [(d["actor"], d["decision"], d["comment"]) for d in history[0]["decisions"]] == [
        ("test-purchasing", "approve", "ok")]
    # raise the threshold: the next order of 500 needs no approval, no restart
    assert api.ok(put(api, "/rules/approval-rules/po-over-100", {**rule, "conditions": {"amount_over": "1000"}}))[
        "version"] == 2
    po3 = api.ok(api.post("/purchase-orders", po_body(w, "500.00"), role="purchasing"), 201)
    assert api.ok(api.post(f"/purchase-orders/{po3['id']}/approve", role="purchasing"))["status"] == "approved"
    api.ok(delete(api, "/rules/approval-rules/po-over-100"))
    assert api.get("/rules/approval-rules/po-over-100").status_code == 404


def test_whoever_entered_a_supplier_invoice_cannot_pay_it_over_http(api: Api) -> None:
    w = api.world()
    po = api.ok(api.post("/purchase-orders", po_body(w, "5.00"), role="purchasing"), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive", role="warehouse"), 201)
    inv = api.ok(api.post("/supplier-invoices", {"purchase_order_id": po["id"], "supplier_ref": uid("R"), "lines": [
        {"line_no": 1, "quantity": "1", "unit_price": "5.00"}]}, role="finance"), 201)
    refused(api.post(f"/supplier-invoices/{inv['id']}/pay", role="finance"), 409, "segregation_of_duties",
            "sod.creator_pay")
    assert Decimal(api.ok(api.post(f"/supplier-invoices/{inv['id']}/pay", role="admin"), 201)["amount"]) == 6


def test_budgets_and_the_report_over_http(api: Api) -> None:
    w = api.world()
    dept, code = department(api)
    body = {"department": code, "account": "1200", "period": PERIOD, "amount": "1000.00"}
    assert Decimal(api.ok(put(api, "/budgets", body, role="finance"))["amount"]) == Decimal(1000)
    po = api.ok(api.post("/purchase-orders", po_body(w, "250.00", dept), role="purchasing"), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))
    [line] = api.ok(api.get("/budgets/report", role="purchasing", period=PERIOD, department=code))
    assert (line["committed"], line["actual"], line["remaining"]) == ("250.00", "0.00", "750.00")
    assert api.ok(api.get("/budgets", role="viewer", period=PERIOD))[0]["department"] == code


def test_permissions_and_hostile_input_write_nothing(api: Api) -> None:
    rule = {"document_type": "sales_order", "steps": [{"roles": ["finance"]}]}
    assert put(api, "/rules/approval-rules/x1", rule, role="sales").status_code == 403
    assert put(api, "/budgets", {"department": "D", "account": "1200", "period": PERIOD, "amount": "1"},
               role="purchasing").status_code == 403
    assert api.get("/rules", role="viewer").status_code == 200
    for bad in ({**rule, "steps": [{"roles": ["pope"]}]}, {**rule, "steps": []}, {**rule, "colour": "red"},
                {**rule, "conditions": {"amount_over": "-1"}}, {**rule, "document_type": "invoice"}):
        response = put(api, "/rules/approval-rules/x1", bad)
        assert response.status_code == 422, (bad, response.text)
    assert put(api, "/rules/approval-rules/bad%20code", rule).status_code == 422
    for period in ("2026-13", "26-01", "2026-1"):
        assert put(api, "/budgets", {"department": "D", "account": "1200", "period": period, "amount": "1"}
                   ).status_code == 422
    assert api.post("/rules/load", {"approval_rules": [{"code": "y", "document_type": "sales_order"}]}
                    ).status_code == 422
    assert api.post("/purchase-orders/1/decision", {"decision": "maybe"}).status_code == 422
    assert count(api, ApprovalRule) == 0
