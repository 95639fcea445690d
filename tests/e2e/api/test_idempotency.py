"""Idempotency-Key: a retry replays the first response and writes nothing twice."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from erpcore.api.idempotency import request_hash
from erpcore.models import Customer, IdempotencyKey, SalesOrder
from erpcore.services import master
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid


def _count(api: Api, model: Any) -> int:
    with api.erp.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_a_retried_create_returns_the_first_response_and_writes_once(api: Api) -> None:
    w = api.world()
    body = {"customer_id": w["customer_id"], "lines": [{"item_id": w["item_id"], "quantity": "2"}]}
    first = api.post("/sales-orders", body, key="order-1")
    again = api.post("/sales-orders", body, key="order-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert _count(api, SalesOrder) == 1
    other = api.post("/sales-orders", body, key="order-2")
    assert other.status_code == 201 and other.json()["id"] != first.json()["id"]


def test_a_retried_action_does_not_ship_twice(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    first = api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 1, "quantity": "1"}]}, key="ship-1")
    again = api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 1, "quantity": "1"}]}, key="ship-1")
    assert first.status_code == again.status_code == 201 and again.json() == first.json()
    assert api.ok(api.get(f"/sales-orders/{so['id']}"))["lines"][0]["qty_shipped"] == "1.0000"


def test_a_refusal_before_the_write_is_not_stored(api: Api) -> None:
    first = api.post("/sales-orders/999999/approve", key="missing")
    invalid = api.post("/customers", {"code": "", "name": "x"}, key="invalid")
    assert first.status_code == 404 and invalid.status_code == 422
    assert first.headers["content-type"] == "application/problem+json"
    assert _count(api, IdempotencyKey) == 0  # released: nothing of the customer's request is kept
    again = api.post("/sales-orders/999999/approve", key="missing")
    assert again.status_code == 404 and "idempotent-replayed" not in again.headers


def test_same_key_with_another_body_is_422(api: Api) -> None:
    api.ok(api.post("/customers", {"code": uid("C"), "name": "first"}, key="k"), 201)
    reused = api.post("/customers", {"code": uid("C"), "name": "second"}, key="k")
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert _count(api, Customer) == 1


def test_keys_belong_to_their_token(api: Api) -> None:
    body = {"code": uid("C"), "name": "x"}
    api.ok(api.post("/customers", body, key="shared"), 201)
    other = api.post("/customers", body, role="sales", key="shared")  # same code: a real second attempt
    assert other.status_code == 409 and other.json()["code"] == "conflict"


def _reserve_in_flight(api: Api, key: str, path: str, content: bytes, age: dt.timedelta) -> None:
    token_id = _token_id(api, "admin")
    with api.erp.engine.begin() as conn:
        conn.execute(insert(IdempotencyKey).values(
            key=key, token_id=token_id, request_hash=request_hash("POST", V1 + path, b"", content), status_code=0,
            response_body="", created_at=dt.datetime.now(dt.UTC) - age))


def _token_id(api: Api, role: str) -> int:
    from erpcore.access import lookup

    principal = lookup(api.erp.engine, api.token(role))
    assert principal is not None
    return principal.token_id


def test_a_duplicate_while_the_first_is_in_flight_is_409_and_a_stale_one_is_taken_over(api: Api) -> None:
    content = json.dumps({"code": uid("C"), "name": "x"}).encode()
    headers = {**api.headers("admin", "busy"), "content-type": "application/json"}
    _reserve_in_flight(api, "busy", "/customers", content, dt.timedelta(seconds=1))
    with api.live_owner("busy"):
        busy = api.client.post(V1 + "/customers", content=content, headers=headers)
        assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_flight"
        assert _count(api, Customer) == 0
        with api.erp.engine.begin() as conn:
            conn.execute(update(IdempotencyKey).values(created_at=dt.datetime.now(dt.UTC)
                                                       - dt.timedelta(hours=1)))
        if api.erp.engine.dialect.name == "postgresql":  # alive for an hour: still its owner's
            assert api.client.post(V1 + "/customers", content=content, headers=headers).status_code == 409
    assert api.client.post(V1 + "/customers", content=content, headers=headers).status_code == 201


@pytest.mark.pg
def test_on_postgresql_a_dead_owners_key_is_taken_over_at_once(api: Api) -> None:
    content = json.dumps({"code": uid("C"), "name": "x"}).encode()
    headers = {**api.headers("admin", "fresh"), "content-type": "application/json"}
    _reserve_in_flight(api, "fresh", "/customers", content, dt.timedelta(seconds=0))
    with api.live_owner("fresh"):
        assert api.client.post(V1 + "/customers", content=content, headers=headers).status_code == 409
    taken = api.client.post(V1 + "/customers", content=content, headers=headers)  # a second later, not 10 minutes
    assert taken.status_code == 201 and _count(api, Customer) == 1


def test_an_unexpected_failure_releases_the_key(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any, **kwargs: Any) -> int:
        raise RuntimeError("disk on fire")

    body = {"code": uid("C"), "name": "x"}
    with monkeypatch.context() as patch:
        patch.setattr(master, "create_customer", boom)
        failed = api.post("/customers", body, key="retry-me")
    assert failed.status_code == 500 and failed.json()["code"] == "internal_error"
    assert "disk" not in failed.text
    retried = api.post("/customers", body, key="retry-me")
    assert retried.status_code == 201 and _count(api, Customer) == 1
