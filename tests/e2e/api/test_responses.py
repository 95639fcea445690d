"""A posting's response is built inside its transaction; it must equal the document read afterwards."""

from __future__ import annotations

from tests.e2e.api.conftest import Api


def test_each_order_to_cash_response_equals_the_document_read_back(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}, {"item_id": w["item_id"], "quantity": "1"}]}), 201)
    assert so == api.ok(api.get(f"/sales-orders/{so['id']}"))
    approved = api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    assert approved == api.ok(api.get(f"/sales-orders/{so['id']}"))
    shipment = api.ok(api.post(f"/sales-orders/{so['id']}/ship"), 201)
    assert shipment == api.ok(api.get(f"/shipments/{shipment['id']}")) and len(shipment["lines"]) == 2
    invoice = api.ok(api.post(f"/sales-orders/{so['id']}/invoice"), 201)
    assert invoice == api.ok(api.get(f"/customer-invoices/{invoice['id']}")) and len(invoice["lines"]) == 2
    receipt = api.ok(api.post(f"/customer-invoices/{invoice['id']}/receipts"), 201)
    assert receipt["amount"] == invoice["total_amount"] and receipt["number"].startswith("RCT-")
