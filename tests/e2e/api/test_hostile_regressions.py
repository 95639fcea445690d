"""What the schema fuzzer (test_fuzz.py) found, pinned: each was a 500 or a response outside the schema."""

from __future__ import annotations

import re

from tests.e2e.api.conftest import V1, Api


def test_a_non_numeric_id_in_an_idempotent_action_is_422_not_500(api: Api) -> None:
    for path in ("/customer-invoices/%C3%92/receipts", "/sales-orders/abc/approve", "/purchase-orders/1x/receive"):
        response = api.post(path, {}, key="fuzz-1")
        assert response.status_code == 422, (path, response.text)
        assert response.json()["code"] == "request_invalid"


def test_moments_carry_their_utc_offset_on_both_engines(api: Api) -> None:
    w = api.world()
    po = api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1"}]}), 201)["id"]
    approved = api.ok(api.post(f"/sales-orders/{so}/approve"))["approved_at"]
    listed = api.ok(api.get("/sales-orders"))["items"][0]["approved_at"]
    po_approved = api.ok(api.get(f"/purchase-orders/{po}"))["approved_at"]
    for moment in (approved, listed, po_approved):
        assert re.search(r"(Z|[+-]\d\d:\d\d)$", moment), moment  # RFC 3339 date-time needs the offset


def test_an_unparseable_body_is_a_documented_400(api: Api) -> None:
    response = api.client.post(V1 + "/items", content=b"\x12\xff", headers={
        **api.headers("admin"), "content-type": "application/json"})
    assert response.status_code in (400, 422)
    declared = api.client.get(V1 + "/openapi.json").json()["paths"][V1 + "/items"]["post"]["responses"]
    assert str(response.status_code) in declared
    assert "400" not in api.client.get(V1 + "/openapi.json").json()["paths"][V1 + "/items"]["get"]["responses"]


def _id_filters(api: Api) -> list[tuple[str, str]]:
    """Every id filter (an integer query parameter named *_id) of a list route, read off the OpenAPI document, so a new route's filters are covered without naming them here (the returns'
    were not, and a customer_id past SQLite's INTEGER was a 500)."""
    doc = api.client.get(V1 + "/openapi.json").json()
    found = []
    for path, operations in doc["paths"].items():
        for p in operations.get("get", {}).get("parameters", []):
            kinds = [s.get("type") for s in p["schema"].get("anyOf", [p["schema"]])]
            if p["in"] == "query" and "integer" in kinds and p["name"].endswith("_id"):
                found.append((path.removeprefix(V1), p["name"]))
    return found


def test_a_filter_id_past_bigint_is_422_not_500(api: Api) -> None:
    filters = _id_filters(api)
    assert ("/customer-returns", "customer_id") in filters and len(filters) >= 10
    for path, name in filters:
        for value in ("9223372036854775808", "0", "-1"):
            response = api.client.get(V1 + path, params={name: value}, headers=api.headers("admin"))
            assert response.status_code == 422, (path, name, value, response.text)
        assert api.client.get(V1 + path, params={name: "1"}, headers=api.headers("admin")).status_code == 200
