"""Plan to produce over HTTP: a sales order short of a manufactured item plans a work order; its component
shortage raises a requisition; bought, issued, made, received, closed, shipped and invoiced, to the cent."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from erpcore.api import replay
from erpcore.api.keystore import Written
from erpcore.check import run_check
from tests.e2e.api.conftest import Api
from tests.factories import uid

D = Decimal


def _plant(api: Api) -> dict[str, int]:
    """Purchased A (standard 2.00); F (manufactured, list 40.00) = 3 A per unit with 10% scrap."""
    sup = api.ok(api.post("/suppliers", {"code": uid("SUP"), "name": "Supplier"}), 201)["id"]
    cus = api.ok(api.post("/customers", {"code": uid("CUS"), "name": "Customer"}), 201)["id"]
    a = api.ok(api.post("/items", {"sku": uid("A"), "name": "Part", "standard_cost": "2.00", "list_price": "3.00",
                                   "default_supplier_id": sup}), 201)["id"]
    f = api.ok(api.post("/items", {"sku": uid("F"), "name": "Product", "standard_cost": "0", "list_price": "40.00",
                                   "procurement": "manufactured"}), 201)["id"]
    bom = api.ok(api.post("/boms", {"item_id": f, "lines": [
        {"component_id": a, "quantity": "3", "scrap_factor": "0.10"}]}, role="purchasing"), 201)
    assert [(line["component_id"], D(line["quantity"]), D(line["scrap_factor"])) for line in bom["lines"]] == [
        (a, D(3), D("0.10"))]
    assert api.ok(api.get(f"/boms/{f}", role="warehouse")) == bom
    return {"supplier": sup, "customer": cus, "A": a, "F": f}


def _wip(api: Api, day: str) -> Decimal:
    tb = api.ok(api.get("/reports/trial-balance", date_from=day, date_to=day))
    return next(D(a["closing"]) for a in tb["accounts"] if a["name"] == "Work in progress")


def test_order_to_work_order_to_shipment_end_to_end(api: Api) -> None:
    p = _plant(api)
    order = api.ok(api.post("/sales-orders", {"customer_id": p["customer"], "lines": [
        {"item_id": p["F"], "quantity": "10"}]}, role="sales"), 201)
    approved = api.ok(api.post(f"/sales-orders/{order['id']}/approve", role="sales"))
    assert D(approved["lines"][0]["qty_reserved"]) == 0
    instruction = api.ok(api.get(f"/sales-orders/{order['id']}/shipping-instruction", role="warehouse"))
    assert instruction["status"] == "open" and [(x["item_id"], D(x["quantity"])) for x in instruction["lines"]] == [
        (p["F"], D(10))]
    [wo] = api.ok(api.get("/work-orders", item_id=p["F"], role="warehouse"))["items"]
    assert (wo["status"], wo["reason"], D(wo["quantity"])) == ("planned", "shortage", D(10))
    assert wo["sales_order_line_id"] == approved["lines"][0]["id"]
    assert D(wo["planned_cost"]) == D("66.00")  # 10 x 3 x 1.1 = 33 A at 2.00

    released = api.ok(api.post(f"/work-orders/{wo['id']}/release", role="warehouse"))
    assert released["status"] == "released" and D(released["lines"][0]["qty_reserved"]) == 0
    [req] = api.ok(api.get("/purchase-requisitions", item_id=p["A"], role="purchasing"))["items"]
    assert (req["status"], req["reason"], D(req["quantity"])) == ("open", "work_order", D(33))
    early = api.post(f"/work-orders/{wo['id']}/issue", role="warehouse")
    assert early.status_code == 409 and early.json()["code"] == "insufficient_stock", early.text

    po = api.ok(api.post("/purchase-orders", {"supplier_id": p["supplier"], "lines": [
        {"item_id": p["A"], "quantity": "33", "unit_price": "2.50", "requisition_id": req["id"]}]},
        role="purchasing"), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve", role="purchasing"))
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive", role="warehouse"), 201)

    issued = api.ok(api.post(f"/work-orders/{wo['id']}/issue", {}, role="warehouse"))
    assert D(issued["issued_cost"]) == D("82.50")  # 33 x 2.50, all of A's stock
    today = issued["issue_date"]
    assert _wip(api, today) == D("82.50")
    received = api.ok(api.post(f"/work-orders/{wo['id']}/receive", role="warehouse"))
    assert (D(received["qty_received"]), D(received["received_cost"])) == (D(10), D("82.50"))
    assert _wip(api, today) == 0
    closed = api.ok(api.post(f"/work-orders/{wo['id']}/close", role="warehouse"))
    assert closed["status"] == "closed" and D(closed["variance_amount"]) == 0
    again = api.post(f"/work-orders/{wo['id']}/close", role="warehouse")
    assert again.status_code == 409 and "is closed" in again.json()["detail"]

    assert D(api.ok(api.get(f"/sales-orders/{order['id']}"))["lines"][0]["qty_reserved"]) == 10
    shipment = api.ok(api.post(f"/sales-orders/{order['id']}/ship", role="warehouse"), 201)
    assert D(shipment["cost_amount"]) == D("82.50")  # the finished goods leave at their actual cost
    invoice = api.ok(api.post(f"/sales-orders/{order['id']}/invoice", role="finance"), 201)
    assert D(invoice["net_amount"]) == D("400.00")

    cost = api.ok(api.get("/reports/production-cost", role="finance"))  # this month's work orders
    [row] = [r for r in cost["rows"] if r["work_order_id"] == wo["id"]]
    assert {k: D(row[k]) for k in ("planned_cost", "actual_cost", "cost_difference", "received_cost", "variance",
                                   "in_wip")} == {
        "planned_cost": D("66.00"), "actual_cost": D("82.50"), "cost_difference": D("16.50"),
        "received_cost": D("82.50"), "variance": D(0), "in_wip": D(0)}
    report = run_check(api.erp.engine)
    assert report.ok, report.violations


def _work_order(api: Api, p: dict[str, int], qty: str = "2") -> dict[str, Any]:
    return dict(api.ok(api.post("/work-orders", {"item_id": p["F"], "quantity": qty}, role="warehouse"), 201))


def test_refusals_are_4xx_and_write_nothing(api: Api) -> None:
    p = _plant(api)
    cycle = api.post("/boms", {"item_id": p["A"], "lines": [{"component_id": p["F"], "quantity": "1"}]})
    assert cycle.status_code == 422 and "manufactured" in cycle.json()["detail"]
    scrap = api.post("/boms", {"item_id": p["F"], "lines": [{"component_id": p["A"], "quantity": "1",
                                                              "scrap_factor": "1"}]})
    assert scrap.status_code == 422
    twice = api.post("/boms", {"item_id": p["F"], "lines": [{"component_id": p["A"], "quantity": "1"}]})
    assert twice.status_code == 409 and "already has" in twice.json()["detail"]
    assert api.post("/boms", {"item_id": p["F"], "lines": []}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["A"], "quantity": "1"}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["F"], "quantity": "-1"}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["F"], "quantity": "99999999999999"}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["F"], "quantity": "0.0001"}).status_code == 201  # 0.00033 -> 0.0003
    tiny = api.post("/boms", {"item_id": api.ok(api.post("/items", {
        "sku": uid("T"), "name": "t", "standard_cost": "0", "list_price": "1", "procurement": "manufactured"}),
        201)["id"], "lines": [{"component_id": p["A"], "quantity": "0.0001"}]})
    assert tiny.status_code == 201
    assert api.post("/work-orders", {"item_id": tiny.json()["item_id"], "quantity": "0.0001"}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["F"], "quantity": "1",
                                     "planned_date": "1999-01-01"}).status_code == 422
    assert api.post("/work-orders", {"item_id": p["F"], "quantity": "1"}, role="sales").status_code == 403
    assert api.post("/boms", {"item_id": p["F"], "lines": [{"component_id": p["A"], "quantity": "1"}]},
                    role="warehouse").status_code == 403
    assert api.get("/work-orders/999999").status_code == 404
    assert api.post("/work-orders/999999/release").status_code == 404
    assert [w["quantity"] for w in api.ok(api.get("/work-orders", role="viewer"))["items"]] == ["0.0001"]

    wo = _work_order(api, p)
    assert api.post(f"/work-orders/{wo['id']}/receive").status_code == 409
    api.ok(api.post(f"/work-orders/{wo['id']}/release"))
    cancelled = api.ok(api.post(f"/work-orders/{wo['id']}/cancel"))
    assert cancelled["status"] == "cancelled"
    assert api.post(f"/work-orders/{wo['id']}/issue").status_code == 409
    assert [w["status"] for w in api.ok(api.get("/work-orders", status="cancelled"))["items"]] == ["cancelled"]
    assert run_check(api.erp.engine).ok


def test_a_retried_plan_or_release_writes_once(api: Api) -> None:
    p = _plant(api)
    key = uid("K")
    first = api.post("/work-orders", {"item_id": p["F"], "quantity": "2"}, role="warehouse", key=key)
    again = api.post("/work-orders", {"item_id": p["F"], "quantity": "2"}, role="warehouse", key=key)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert len(api.ok(api.get("/work-orders", item_id=p["F"]))["items"]) == 1
    wo = first.json()["id"]
    released = api.post(f"/work-orders/{wo}/release", role="warehouse", key=uid("R"))
    assert released.status_code == 200
    retried = api.post(f"/work-orders/{wo}/release", role="warehouse", key=released.request.headers["Idempotency-Key"])
    assert retried.status_code == 200 and retried.json() == released.json()  # not a 409 "is released"
    assert len(api.ok(api.get("/purchase-requisitions", item_id=p["A"], role="purchasing"))["items"]) == 1


def test_a_lost_response_is_answered_with_the_work_order_as_it_is_now(api: Api) -> None:
    p = _plant(api)
    wo = api.ok(api.post("/work-orders", {"item_id": p["F"], "quantity": "1"}), 201)
    api.ok(api.post(f"/work-orders/{wo['id']}/cancel"))
    body = replay.render(api.erp.engine, Written("work_order", wo["id"], 201))
    assert body is not None and json.loads(body) == api.ok(api.get(f"/work-orders/{wo['id']}"))
    assert json.loads(body)["status"] == "cancelled"
