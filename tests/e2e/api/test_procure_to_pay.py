"""Procure to pay over HTTP: requisition, PO, approve, receive, three-way matched invoice, payment; holds."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.e2e.api.conftest import Api
from tests.factories import uid


def _received_po(api: Api, w: dict[str, int], qty: str = "10", price: str = "5.00") -> dict[str, Any]:
    req = api.ok(api.post("/purchase-requisitions", {"item_id": w["item_id"], "quantity": qty},
                          role="purchasing"), 201)
    assert req["status"] == "open" and req["reason"] == "manual"
    po = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "lines": [
        {"item_id": w["item_id"], "quantity": qty, "unit_price": price, "requisition_id": req["id"]}]},
        role="purchasing"), 201)
    assert api.ok(api.get(f"/purchase-requisitions/{req['id']}"))["status"] == "ordered"
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))
    receipt = api.ok(api.post(f"/purchase-orders/{po['id']}/receive", role="warehouse"), 201)
    assert receipt["lines"][0]["purchase_order_line_id"] == po["lines"][0]["id"]
    assert Decimal(receipt["value_amount"]) == Decimal(qty) * Decimal(price)
    return dict(po)


def test_procure_to_pay_end_to_end(api: Api) -> None:
    w = api.world()
    po = _received_po(api, w)
    assert api.ok(api.get(f"/purchase-orders/{po['id']}"))["status"] == "received"
    inv = api.ok(api.post("/supplier-invoices", {"purchase_order_id": po["id"], "supplier_ref": uid("INV"),
                                                 "lines": [{"line_no": 1, "quantity": "10", "unit_price": "5.00"}]},
                          role="purchasing"), 201)
    assert inv["status"] == "matched" and inv["hold_reason"] is None and inv["reason"]
    assert Decimal(inv["total_amount"]) == Decimal(60)
    payment = api.ok(api.post(f"/supplier-invoices/{inv['id']}/pay", role="finance"), 201)
    assert Decimal(payment["amount"]) == Decimal(60) and payment["supplier_invoice_id"] == inv["id"]
    assert api.ok(api.get(f"/supplier-invoices/{inv['id']}", role="finance"))["status"] == "paid"
    assert api.ok(api.get(f"/purchase-orders/{po['id']}"))["status"] == "closed"
    receipts = api.ok(api.get("/goods-receipts", purchase_order_id=po["id"]))["items"]
    assert [r["status"] for r in receipts] == ["posted"]
    assert api.ok(api.get("/goods-receipts", supplier_id=w["supplier_id"]))["items"] == receipts
    assert api.ok(api.get("/goods-receipts", supplier_id=w["supplier_id"] + 1000))["items"] == []


def test_mismatched_invoice_goes_on_hold_and_cannot_be_paid(api: Api) -> None:
    w = api.world()
    po = _received_po(api, w)
    inv = api.ok(api.post("/supplier-invoices", {"purchase_order_id": po["id"], "supplier_ref": uid("INV"),
                                                 "lines": [{"line_no": 1, "quantity": "10", "unit_price": "6.00"}]}),
                 201)
    assert inv["status"] == "on_hold" and inv["reason"] and inv["hold_reason"] == inv["reason"]
    held = api.ok(api.get("/supplier-invoices", status="on_hold", supplier_id=w["supplier_id"]))["items"]
    assert [h["id"] for h in held] == [inv["id"]]
    refused = api.post(f"/supplier-invoices/{inv['id']}/pay", role="finance")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "on_hold" in refused.json()["detail"]
    cancelled = api.ok(api.post(f"/supplier-invoices/{inv['id']}/cancel"))
    assert cancelled["status"] == "cancelled"


def test_a_duplicate_supplier_reference_is_a_conflict(api: Api) -> None:
    w = api.world()
    po = _received_po(api, w)
    body = {"purchase_order_id": po["id"], "supplier_ref": uid("INV"),
            "lines": [{"line_no": 1, "quantity": "4", "unit_price": "5.00"}]}
    api.ok(api.post("/supplier-invoices", body), 201)
    again = api.post("/supplier-invoices", body)
    assert again.status_code == 409 and "already registered" in again.json()["detail"]


def test_cancel_a_draft_purchase_order_reopens_nothing_received(api: Api) -> None:
    w = api.world()
    po = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)
    assert po["lines"][0]["unit_price"] == "6.0000"  # the item's standard cost
    assert api.ok(api.post(f"/purchase-orders/{po['id']}/cancel"))["status"] == "cancelled"
    assert api.post(f"/purchase-orders/{po['id']}/receive").status_code == 409
