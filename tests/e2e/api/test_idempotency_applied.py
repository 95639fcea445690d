"""An applied write is marked in its own transaction, so a lost response never leads to a second write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select, update

from erpcore.api import idempotency
from erpcore.models import IdempotencyKey, SalesOrder
from tests.e2e.api.conftest import Api


def _orders(api: Api) -> int:
    with api.erp.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(SalesOrder)) or 0)


def _status(api: Api, key: str) -> int:
    with api.erp.engine.connect() as conn:
        return int(conn.execute(select(IdempotencyKey.status_code).where(IdempotencyKey.key == key)).scalar_one())


def test_a_write_whose_response_was_lost_is_not_run_again(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    w = api.world()
    body = {"customer_id": w["customer_id"], "lines": [{"item_id": w["item_id"], "quantity": "1"}]}

    def lost(*args: Any) -> None:  # the worker dies after the commit, before storing the response
        return None

    with monkeypatch.context() as patch:
        patch.setattr(idempotency, "complete", lost)
        api.ok(api.post("/sales-orders", body, key="lost"), 201)
    assert _status(api, "lost") == idempotency.APPLIED and _orders(api) == 1
    busy = api.post("/sales-orders", body, key="lost")
    assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_flight"
    with api.erp.engine.begin() as conn:
        conn.execute(update(IdempotencyKey).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)))
    stale = api.post("/sales-orders", body, key="lost")
    assert stale.status_code == 409 and stale.json()["code"] == "idempotency_key_applied"
    assert _orders(api) == 1


def test_a_refused_write_leaves_the_key_to_store_its_error(api: Api) -> None:
    first = api.post("/sales-orders/999999/ship", key="refused")
    assert first.status_code == 404 and _status(api, "refused") == 404
