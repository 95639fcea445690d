"""Tokens against a real server process (two workers on PostgreSQL): a revocation made in another process is
honoured by every worker within `TOKEN_TTL_S`; an expired token is refused; and no token ever reaches a log,
the server's (access log on) or this process's."""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from erpcore.access import TOKEN_TTL_S, create_token, lookup, revoke_token, token_hash
from erpcore.api.app import create_app
from erpcore.services.bootstrap import Erp
from opskit.ports import free_port
from opskit.proc import ServerProcess, start_http_server
from tests.asgi import Client


def _url_of(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return engine.url.render_as_string(hide_password=False)
    with engine.connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    base = engine.url.render_as_string(hide_password=False)
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


@pytest.fixture
def server(erp: Erp, tmp_path: Path) -> Iterator[tuple[ServerProcess, Path]]:
    port = free_port()
    log = tmp_path / "server.log"
    workers = "1" if erp.engine.dialect.name == "sqlite" else "2"
    env = {"ERPOPS_DATABASE_URL": _url_of(erp.engine), "ERPOPS_CONFIG": "", "PATH": "/usr/bin:/bin",
           "PYTHONPATH": str(Path(__file__).resolve().parents[3])}
    proc = start_http_server([sys.executable, "-m", "erpops", "serve", "--port", str(port), "--workers", workers],
                             f"http://127.0.0.1:{port}", log, env=env, wait_s=120)
    try:
        yield proc, log
    finally:
        proc.stop()


def status(base: str, path: str, token: str, body: object | None = None) -> int:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method="POST" if data is not None else "GET",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_a_revocation_in_another_process_reaches_every_worker_within_the_cache_ttl(
    erp: Erp, server: tuple[ServerProcess, Path],
) -> None:
    proc, log = server
    token = create_token(erp, "viewer", "live-viewer")
    assert all(status(proc.url, "/api/v1/items", token) == 200 for _ in range(12))  # both workers cache it
    assert status(proc.url, "/api/v1/customers", token, {"code": "X", "name": "x"}) == 403
    assert status(proc.url, "/api/v1/items", "erp_not-a-token") == 401
    actor = lookup(erp.engine, token)
    assert actor is not None and actor.token_id is not None
    revoke_token(erp, actor.token_id)
    revoked_at = time.monotonic()
    answers: list[int] = []
    while answers != [401] * 12 and time.monotonic() - revoked_at < 30:  # until no worker accepts it any more
        time.sleep(0.1)
        answers = [status(proc.url, "/api/v1/items", token) for _ in range(12)]
    took = time.monotonic() - revoked_at
    assert answers == [401] * 12, answers
    assert took <= TOKEN_TTL_S + 3, f"every worker refused the token only after {took:.1f}s"
    logged = log.read_text(errors="replace")
    assert "GET /api/v1/items" in logged  # the access log was on
    assert token not in logged and token_hash(token) not in logged and "not-a-token" not in logged


def test_an_expired_token_is_refused(erp: Erp) -> None:
    client = Client(create_app(erp))
    token = create_token(erp, "viewer", "short", lifetime=dt.timedelta(seconds=1))
    assert client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    time.sleep(1.2)
    refused = client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code == 401 and token not in refused.text


def test_no_token_reaches_this_process_s_logs(erp: Erp, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = Client(create_app(erp))
    token = create_token(erp, "sales_clerk", "quiet")
    for path, body in (("/api/v1/items", None), ("/api/v1/suppliers", {"code": "S", "name": "s"}),
                       ("/api/v1/sales-orders", {"lines": "not a list"}), ("/api/v1/nowhere", None)):
        headers = {"Authorization": f"Bearer {token}"}
        answer = client.post(path, json=body, headers=headers) if body else client.get(path, headers=headers)
        assert token not in answer.text
    unknown = client.get("/api/v1/items", headers={"Authorization": f"Bearer {token}x"})
    assert unknown.status_code == 401 and token not in unknown.text
    assert caplog.records  # something was logged, and none of it is the token
    assert token not in caplog.text and token_hash(token) not in caplog.text
