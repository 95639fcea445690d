"""Idempotency keys expire after the configured window and are purged in bounded batches."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, insert, select, update

from erpcore.access import lookup
from erpcore.api import keystore
from erpcore.api.app import create_app
from erpcore.config import ApiSettings, Settings
from erpcore.models import Customer, IdempotencyKey
from erpcore.services.bootstrap import bootstrap
from tests.asgi import Client
from tests.e2e.api.conftest import Api
from tests.factories import uid

DAY = dt.timedelta(hours=24)


def _token_id(api: Api) -> int:
    actor = lookup(api.erp.engine, api.token("admin"))
    assert actor is not None and actor.token_id is not None
    return actor.token_id


def _keys(api: Api) -> set[str]:
    with api.erp.engine.connect() as conn:
        return set(conn.scalars(select(IdempotencyKey.key)))


def _add_keys(api: Api, prefix: str, count: int, age: dt.timedelta) -> None:
    token_id, at = _token_id(api), dt.datetime.now(dt.UTC) - age
    with api.erp.engine.begin() as conn:
        conn.execute(insert(IdempotencyKey), [
            {"key": f"{prefix}-{n}", "token_id": token_id, "request_hash": "0" * 64, "status_code": 201,
             "response_body": '{"email": "someone@example.com"}', "created_at": at} for n in range(count)])


def _age(api: Api, key: str, age: dt.timedelta) -> None:
    with api.erp.engine.begin() as conn:
        conn.execute(update(IdempotencyKey).where(IdempotencyKey.key == key)
                     .values(created_at=dt.datetime.now(dt.UTC) - age))


def test_a_key_older_than_the_window_is_new_again(api: Api) -> None:
    api.ok(api.post("/customers", {"code": uid("C"), "name": "first"}, key="k"), 201)
    _age(api, "k", DAY + dt.timedelta(minutes=1))
    again = api.post("/customers", {"code": uid("C"), "name": "second"}, key="k")  # no 422 "reused"
    assert again.status_code == 201 and "idempotent-replayed" not in again.headers
    with api.erp.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Customer)) == 2
        assert conn.scalar(select(IdempotencyKey.response_body).where(IdempotencyKey.key == "k")) == again.text
    _age(api, "k", DAY - dt.timedelta(minutes=1))  # inside the window: replayed
    assert api.post("/customers", {"code": uid("C"), "name": "second"}, key="k").status_code == 422


def test_purge_expired_deletes_only_expired_keys_in_batches(api: Api) -> None:
    _add_keys(api, "old", 7, DAY + dt.timedelta(seconds=5))
    _add_keys(api, "new", 2, DAY - dt.timedelta(minutes=5))
    partial = keystore.purge_expired(api.erp.engine, DAY, batch=3, max_batches=1)
    assert (partial.deleted, partial.batches, partial.finished) == (3, 1, False) and "more may remain" in partial.reason
    done = keystore.purge_expired(api.erp.engine, DAY, batch=3)
    assert (done.deleted, done.batches, done.finished) == (4, 2, True)
    assert _keys(api) == {"new-0", "new-1"}
    assert keystore.purge_expired(api.erp.engine, dt.timedelta(minutes=1)).deleted == 2


def test_reservations_purge_one_bounded_batch_at_most_once_a_minute(api: Api) -> None:
    _add_keys(api, "old", 3, DAY + dt.timedelta(hours=1))
    api.ok(api.post("/customers", {"code": uid("C"), "name": "x"}, key="fresh"), 201)
    assert _keys(api) == {"fresh"}
    _add_keys(api, "later", 2, DAY + dt.timedelta(hours=1))
    api.ok(api.post("/customers", {"code": uid("C"), "name": "y"}, key="fresh-2"), 201)
    assert _keys(api) == {"fresh", "fresh-2", "later-0", "later-1"}  # the next batch waits a minute
    api.ok(api.post("/customers", {"code": uid("C"), "name": "z"}), 201)  # no key: no purge, no reservation


def test_the_window_comes_from_the_api_settings(api: Api) -> None:
    settings = Settings(database_url=str(api.erp.engine.url), api=ApiSettings(idempotency_window_hours=1))
    hourly = Api(Client(create_app(bootstrap(api.erp.engine, settings))), api.erp, api.tokens)
    _add_keys(api, "two-hours", 1, dt.timedelta(hours=2))
    _add_keys(api, "half-hour", 1, dt.timedelta(minutes=30))
    hourly.ok(hourly.post("/customers", {"code": uid("C"), "name": "x"}, key="k"), 201)
    assert _keys(api) == {"half-hour-0", "k"}
