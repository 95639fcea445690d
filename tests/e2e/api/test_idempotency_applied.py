"""An applied write is marked, with the document it wrote, in its own transaction: a lost response never leads
to a second write, and the retry gets the document."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select, update

from erpcore.api import keystore
from erpcore.models import IdempotencyKey, SalesOrder, Shipment
from tests.e2e.api.conftest import Api


def _count(api: Api, model: Any) -> int:
    with api.erp.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def _row(api: Api, key: str) -> Any:
    with api.erp.engine.connect() as conn:
        return conn.execute(select(IdempotencyKey.status_code, IdempotencyKey.response_body)
                            .where(IdempotencyKey.key == key)).one_or_none()


@contextmanager
def _response_lost(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker dies after the business commit, before it stores the response."""
    def lost(*args: Any) -> bool:
        return False

    with monkeypatch.context() as patch:
        patch.setattr(keystore, "complete", lost)
        yield


def _order_body(w: dict[str, int], qty: str = "1") -> dict[str, Any]:
    return {"customer_id": w["customer_id"], "lines": [{"item_id": w["item_id"], "quantity": qty}]}


def test_a_create_whose_response_was_lost_answers_the_retry_with_the_document(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    w = api.world()
    api.ok(api.post("/sales-orders", _order_body(w, "3")), 201)  # another order first: the id is not 1 by luck
    with _response_lost(monkeypatch):
        first = api.ok(api.post("/sales-orders", _order_body(w), key="lost"), 201)
    row = _row(api, "lost")
    assert row.status_code == keystore.APPLIED
    assert keystore.Written.loads(row.response_body) == keystore.Written("sales_order", first["id"], 201)
    retry = api.post("/sales-orders", _order_body(w), key="lost")
    assert retry.status_code == 201 and retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first and _count(api, SalesOrder) == 2
    assert _row(api, "lost").status_code == 201  # stored now: later retries are plain replays
    again = api.post("/sales-orders", _order_body(w), key="lost")
    assert again.json() == first and _count(api, SalesOrder) == 2


def test_a_lost_action_and_a_lost_shipment_are_answered_with_their_documents(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", _order_body(w, "2")), 201)
    ship_body = {"lines": [{"line_no": 1, "quantity": "1"}]}
    with _response_lost(monkeypatch):
        approved = api.ok(api.post(f"/sales-orders/{so['id']}/approve", key="approve"))
        shipped = api.ok(api.post(f"/sales-orders/{so['id']}/ship", ship_body, key="ship"), 201)
    retry = api.post(f"/sales-orders/{so['id']}/approve", key="approve")
    assert retry.status_code == 200 and retry.json()["id"] == so["id"] and approved["status"] == "approved"
    assert retry.json()["status"] == "partly_shipped"  # the document as it is now, not as it was then
    assert retry.json()["lines"][0]["qty_shipped"] == "1.0000" != approved["lines"][0]["qty_shipped"]
    reship = api.post(f"/sales-orders/{so['id']}/ship", ship_body, key="ship")
    assert reship.status_code == 201 and reship.json() == shipped and _count(api, Shipment) == 1


def test_an_applied_key_without_a_document_stays_in_flight_then_says_applied(api: Api) -> None:
    w = api.world()
    api.ok(api.post("/sales-orders", _order_body(w), key="old"), 201)
    with api.erp.engine.begin() as conn:  # as a key applied before documents were recorded
        conn.execute(update(IdempotencyKey).values(status_code=keystore.APPLIED, response_body=""))
    with api.live_owner("old"):
        busy = api.post("/sales-orders", _order_body(w), key="old")
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_flight"
    with api.erp.engine.begin() as conn:  # on SQLite the owner is presumed dead after STALE_AFTER
        conn.execute(update(IdempotencyKey).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    stale = api.post("/sales-orders", _order_body(w), key="old")
    assert stale.status_code == 409 and stale.json()["code"] == "idempotency_key_applied"
    assert _count(api, SalesOrder) == 1


def test_a_refused_write_releases_its_key(api: Api) -> None:
    first = api.post("/sales-orders/999999/ship", key="refused")
    assert first.status_code == 404 and _row(api, "refused") is None
    again = api.post("/sales-orders/999999/ship", key="refused")
    assert again.status_code == 404 and "idempotent-replayed" not in again.headers


def test_every_kind_of_lost_write_is_answered_with_its_own_document(
        api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    w = api.world(price="10.00", cost="6.00")
    sup, cus, item = w["supplier_id"], w["customer_id"], w["item_id"]
    po_body = {"supplier_id": sup, "lines": [{"item_id": item, "quantity": "4", "unit_price": "6.00"}]}
    so_body = {"customer_id": cus, "lines": [{"item_id": item, "quantity": "2"}]}
    steps: list[tuple[str, Any, int, str]] = []  # (path, body, status, role) in the order they run

    def lost(path: str, body: Any = None, status: int = 201, role: str = "admin") -> dict[str, Any]:
        with _response_lost(monkeypatch):
            first = api.ok(api.post(path, body, role=role, key=path), status)
        steps.append((path, body, status, role))
        return dict(first)

    firsts = [lost("/warehouses", {"code": "W2", "name": "Second"}),
              lost("/purchase-requisitions", {"item_id": item, "quantity": "1"})]
    po = lost("/purchase-orders", po_body)
    firsts += [po, lost(f"/purchase-orders/{po['id']}/approve", status=200),
               lost(f"/purchase-orders/{po['id']}/receive")]
    invoice = lost("/supplier-invoices", {"purchase_order_id": po["id"], "supplier_ref": "INV-1", "lines": [
        {"line_no": 1, "quantity": "4", "unit_price": "6.00"}]})
    # whoever entered the invoice may not pay it (segregation of duties)
    firsts += [invoice, lost(f"/supplier-invoices/{invoice['id']}/pay", role="finance")]
    so = api.ok(api.post("/sales-orders", so_body), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship"), 201)
    customer_invoice = lost(f"/sales-orders/{so['id']}/invoice")
    firsts += [customer_invoice, lost(f"/customer-invoices/{customer_invoice['id']}/receipts")]
    for (path, body, status, role), first in zip(steps, firsts, strict=True):
        retry = api.post(path, body, role=role, key=path)
        assert retry.status_code == status and retry.headers["idempotent-replayed"] == "true", path
        again = retry.json()
        assert again["id"] == first["id"] and again.get("number") == first.get("number"), path
        assert again.get("code") == first.get("code") and again.get("amount") == first.get("amount"), path
