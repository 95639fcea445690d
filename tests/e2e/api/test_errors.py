"""Bad input gets a clear problem+json 4xx naming the problem, and nothing is written."""

from __future__ import annotations

import importlib.metadata
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from erpcore.api.app import PLUGIN_GROUP, create_app
from erpcore.models import SalesOrder, SalesOrderLine, Shipment, StockMove
from erpcore.services import master
from tests.dbhelpers import sqlite_engine
from tests.e2e.api.conftest import V1, Api, Client


def _count(api: Api, model: Any) -> int:
    with api.erp.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail", "code"} <= body.keys() and body["status"] == status
    if code:
        assert body["code"] == code
    return body


def test_unknown_item_is_422_and_writes_nothing(api: Api) -> None:
    w = api.world()
    body = _problem(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1"}, {"item_id": 987654, "quantity": "1"}]}), 422,
        "validation_failed")
    assert "unknown item" in body["detail"] and "987654" in body["detail"]
    assert _count(api, SalesOrder) == 0 and _count(api, SalesOrderLine) == 0


def test_bad_quantity_is_422_naming_the_field(api: Api) -> None:
    w = api.world()
    for quantity in ("-1", "0", "1.23456", "abc", "1e30"):
        body = _problem(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
            {"item_id": w["item_id"], "quantity": quantity}]}), 422, "request_invalid")
        assert "lines.0.quantity" in body["detail"], quantity
    assert _count(api, SalesOrder) == 0


def test_malformed_json_and_unknown_fields_are_422(api: Api) -> None:
    headers = {**api.headers("admin"), "content-type": "application/json"}
    body = _problem(api.client.post(V1 + "/customers", content=b'{"code": "C1", "name": ', headers=headers), 422,
                    "request_invalid")
    assert body["detail"].startswith("body: malformed JSON at character")
    body = _problem(api.post("/customers", {"code": "C1", "name": "x", "credit_limt": "5"}), 422)
    assert "credit_limt" in body["detail"]
    body = _problem(api.post("/customers", {"code": "C" * 41, "name": "x"}), 422)
    assert "code" in body["detail"]


def test_over_shipment_is_refused_and_nothing_moves(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "10")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "3"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    moves = _count(api, StockMove)
    body = _problem(api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 1, "quantity": "4"}]}), 422)
    assert "over-shipment" in body["detail"]
    _problem(api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 2, "quantity": "1"}]}), 422)
    assert _count(api, Shipment) == 0 and _count(api, StockMove) == moves


def test_unknown_documents_are_404(api: Api) -> None:
    for path in ("/sales-orders/424242", "/shipments/424242", "/customer-invoices/424242", "/items/424242",
                 "/purchase-orders/424242", "/goods-receipts/424242", "/supplier-invoices/424242"):
        assert "424242" in _problem(api.get(path), 404, "not_found")["detail"]
    _problem(api.post("/sales-orders/424242/approve"), 404, "not_found")
    _problem(api.post("/supplier-invoices/424242/pay"), 404, "not_found")
    _problem(api.get("/no-such-route"), 404)
    _problem(api.get("/sales-orders/99999999999999999999"), 422, "request_invalid")


def test_business_rule_violations_are_409_never_500(api: Api) -> None:
    w = api.world()
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "backorder_allowed": False, "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)
    body = _problem(api.post(f"/sales-orders/{so['id']}/approve"), 409, "insufficient_stock")
    assert "no backorder" in body["detail"]
    assert api.ok(api.get(f"/sales-orders/{so['id']}"))["status"] == "draft"
    _problem(api.post(f"/sales-orders/{so['id']}/invoice"), 409, "invalid_transition")
    dup = {"code": "DUP-" + str(w["item_id"]), "name": "x"}
    api.ok(api.post("/warehouses", dup), 201)
    _problem(api.post("/warehouses", dup), 409, "conflict")


def test_openapi_and_health(api: Api) -> None:
    spec = api.ok(api.client.get(V1 + "/openapi.json"))
    ship = spec["paths"]["/api/v1/sales-orders/{order_id}/ship"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in ship["parameters"]] and ship["security"]
    assert api.ok(api.client.get("/healthz"))["status"] == "ok"


def install_demo_plugin(app: Any) -> None:
    """What a tool's `erpops.api` entry point does: add routes or middleware."""
    app.add_api_route("/plugged", lambda: {"plugged": True}, methods=["GET"])


def test_tools_extend_the_app_through_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = EntryPoint("demo", f"{__name__}:install_demo_plugin", PLUGIN_GROUP)
    monkeypatch.setattr(importlib.metadata, "entry_points", lambda group: [plugin] if group == PLUGIN_GROUP else [])
    with sqlite_engine(tmp_path) as engine:
        assert Client(create_app(engine)).get("/plugged").json() == {"plugged": True}


def test_an_unreachable_database_is_503_with_retry_after(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*args: Any, **kwargs: Any) -> int:
        raise OperationalError("INSERT ...", {}, Exception("connection refused"))

    monkeypatch.setattr(master, "create_warehouse", down)
    body = _problem(api.post("/warehouses", {"code": "W", "name": "w"}), 503, "database_unavailable")
    assert "retry" in body["detail"]
    assert api.post("/warehouses", {"code": "W", "name": "w"}).headers["retry-after"] == "1"
