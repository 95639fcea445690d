"""Order to cash over HTTP: create, approve, ship, invoice, receipt, with the documents' links and states."""

from __future__ import annotations

from decimal import Decimal

from tests.e2e.api.conftest import Api


def test_order_to_cash_end_to_end(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "10")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "4"}]}, role="sales"), 201)
    assert so["status"] == "draft" and so["number"].startswith("SO-")
    assert so["lines"][0]["unit_price"] == "10.0000" and so["net_amount"] == "40.0000"

    approved = api.ok(api.post(f"/sales-orders/{so['id']}/approve", role="sales"))
    assert approved["status"] == "approved" and Decimal(approved["lines"][0]["qty_reserved"]) == 4

    shipment = api.ok(api.post(f"/sales-orders/{so['id']}/ship", role="warehouse"), 201)
    assert shipment["sales_order_id"] == so["id"] and Decimal(shipment["cost_amount"]) == Decimal(24)
    assert api.ok(api.get(f"/shipments/{shipment['id']}"))["lines"][0]["sales_order_line_id"] == so["lines"][0]["id"]

    invoice = api.ok(api.post(f"/sales-orders/{so['id']}/invoice", role="finance"), 201)
    assert Decimal(invoice["total_amount"]) == Decimal(48) and invoice["status"] == "posted"
    assert invoice["lines"][0]["shipment_line_id"] == shipment["lines"][0]["id"]

    receipt = api.ok(api.post(f"/customer-invoices/{invoice['id']}/receipts", role="finance"), 201)
    assert Decimal(receipt["amount"]) == Decimal(48)
    assert api.ok(api.get(f"/customer-invoices/{invoice['id']}"))["status"] == "paid"
    assert api.ok(api.get(f"/sales-orders/{so['id']}"))["status"] == "closed"
    assert [s["id"] for s in api.ok(api.get("/shipments", customer_id=w["customer_id"]))["items"]] == [shipment["id"]]
    assert [i["id"] for i in api.ok(api.get("/customer-invoices", customer_id=w["customer_id"], status="paid"))
            ["items"]] == [invoice["id"]]


def test_partial_shipment_by_line_number_then_cancel(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "10")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": 5, "unit_price": 12.5}]}), 201)  # JSON numbers work too
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    shp = api.ok(api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 1, "quantity": 2}]}), 201)
    assert shp["lines"][0]["quantity"] == "2.0000"
    order = api.ok(api.get(f"/sales-orders/{so['id']}"))
    assert order["status"] == "partly_shipped"
    assert Decimal(order["lines"][0]["qty_shipped"]) == 2 and Decimal(order["lines"][0]["qty_reserved"]) == 3

    cancelled = api.ok(api.post(f"/shipments/{shp['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert api.ok(api.get(f"/sales-orders/{so['id']}"))["status"] == "approved"


def test_cancel_releases_the_reservation_and_a_cancelled_order_cannot_ship(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "3")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "3"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    assert api.ok(api.post(f"/sales-orders/{so['id']}/cancel"))["status"] == "cancelled"
    stock = api.ok(api.get("/reports/stock-valuation"))["rows"]
    assert [Decimal(r["reserved"]) for r in stock if r["item_id"] == w["item_id"]] == [0]
    refused = api.post(f"/sales-orders/{so['id']}/ship")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_transition"


def test_lists_filter_by_status_customer_and_date(api: Api) -> None:
    w = api.world()
    other = api.world()
    for customer in (w["customer_id"], w["customer_id"], other["customer_id"]):
        api.ok(api.post("/sales-orders", {"customer_id": customer, "order_date": "2024-03-05", "lines": [
            {"item_id": w["item_id"], "quantity": "1"}]}), 201)
    mine = api.ok(api.get("/sales-orders", customer_id=w["customer_id"]))
    assert len(mine["items"]) == 2 and mine["next"] is None
    assert len(api.ok(api.get("/sales-orders", status="draft", date_from="2024-03-05", date_to="2024-03-05"))
               ["items"]) == 3
    assert api.ok(api.get("/sales-orders", date_from="2024-03-06"))["items"] == []
    assert api.ok(api.get("/sales-orders", status="approved"))["items"] == []
