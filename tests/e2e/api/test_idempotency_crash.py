"""PostgreSQL: a worker killed with SIGKILL while it owns an Idempotency-Key gives the key up at once."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.pool import NullPool

from erpcore.api.idempotency import request_hash
from erpcore.api.owner import OwnerLock
from erpcore.models import IdempotencyKey
from erpcore.services import master
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid

# A stand-in for a worker in the middle of a request: it takes the key's owner lock as the middleware does.
OWNER = """
import sys, time
from erpcore.api.owner import owner_lock
from erpcore.db import make_engine
url, schema, key, token_id = sys.argv[1:5]
lock = owner_lock(make_engine(url, connect_args={"options": f"-csearch_path={schema}"}), key, int(token_id))
with lock.conn.begin():
    lock.take()
print("held" if lock.held else "refused", flush=True)
time.sleep(120)
"""


@pytest.mark.pg
def test_a_killed_owners_key_is_taken_over_within_seconds(api: Api) -> None:
    engine = api.erp.engine
    with engine.connect() as conn:
        schema = str(conn.execute(text("SELECT current_schema()")).scalar_one())
    content = json.dumps({"code": uid("C"), "name": "x"}).encode()
    with engine.begin() as conn:
        conn.execute(insert(IdempotencyKey).values(
            key="crash", token_id=api.token_id(), request_hash=request_hash("POST", V1 + "/customers", b"", content),
            status_code=0, response_body="", created_at=dt.datetime.now(dt.UTC)))
    url = engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen([sys.executable, "-c", OWNER, url, schema, "crash", str(api.token_id())],
                              stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": os.getcwd()})
    try:
        assert worker.stdout is not None and worker.stdout.readline().strip() == "held"
        headers = {**api.headers("admin", "crash"), "content-type": "application/json"}
        busy = api.client.post(V1 + "/customers", content=content, headers=headers)
        assert busy.status_code == 409 and busy.json()["code"] == "idempotency_key_in_flight"
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        started, status = time.monotonic(), 409
        while status == 409 and time.monotonic() - started < 10:  # PostgreSQL ends the session within moments
            status = api.client.post(V1 + "/customers", content=content, headers=headers).status_code
            time.sleep(0.05)
        took = time.monotonic() - started
        assert status == 201 and took < 10
        print(f"key taken over {took:.3f} s after SIGKILL")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)
        if worker.stdout is not None:
            worker.stdout.close()


def _free(api: Api, key: str) -> bool:
    """Whether a new session (not one of the pool's) can take the key's owner lock."""
    engine = create_engine(api.erp.engine.url, poolclass=NullPool,
                           connect_args={"options": f"-csearch_path={_schema(api)}"})
    try:
        with engine.connect() as conn:
            params = {"key": key, "token_id": api.token_id()}
            taken = bool(conn.execute(text(f"SELECT pg_try_advisory_lock({OwnerLock.SQL})"), params).scalar())
            conn.execute(text(f"SELECT pg_advisory_unlock({OwnerLock.SQL})"), params)
            return taken
    finally:
        engine.dispose()


def _schema(api: Api) -> str:
    with api.erp.engine.connect() as conn:
        return str(conn.execute(text("SELECT current_schema()")).scalar_one())


@pytest.mark.pg
def test_no_owner_lock_outlives_its_request(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    body = {"code": uid("C"), "name": "x"}
    api.ok(api.post("/customers", body, key="ok"), 201)
    api.ok(api.post("/customers", body, key="ok"), 201)  # replayed
    assert api.post("/sales-orders/999999/approve", key="refused").status_code == 404
    assert api.post("/customers", {**body, "code": uid("C")}, key="ok").status_code == 422  # reused

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(master, "create_customer", boom)
    assert api.post("/customers", {"code": uid("C"), "name": "y"}, key="failed").status_code == 500
    assert all(_free(api, key) for key in ("ok", "refused", "failed"))
