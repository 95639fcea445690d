"""The request gate: bodies over api.max_body_bytes get 413 unread, and a body without a known token gets 401
before anything reads it. "Unread" is measured: the test body is a generator that counts the chunks pulled."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy import func, select

from erpcore.api.app import create_app
from erpcore.config import ApiSettings, Settings
from erpcore.models import Customer, IdempotencyKey
from erpcore.services.bootstrap import bootstrap
from tests.asgi import Client
from tests.e2e.api.conftest import V1, Api
from tests.factories import uid

CHUNK = 64 * 1024
HUNDRED_MB = 1600 * CHUNK
LIMIT = 1_048_576  # the default


@dataclass
class Stream:
    """A body of `chunks` chunks of 64 KB, produced only when the server pulls them."""

    chunks: int
    pulled: int = 0

    async def body(self) -> AsyncIterator[bytes]:
        for _ in range(self.chunks):
            self.pulled += 1
            yield b" " * CHUNK


def _post(api: Api, stream: Stream, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
    response = api.client.post(V1 + "/customers", content=stream.body(),
                               headers={"content-type": "application/json", **headers})
    return response.status_code, response.json()


def _count(api: Api, model: object) -> int:
    with api.erp.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[arg-type]


def test_a_body_without_a_token_gets_401_before_it_is_read(api: Api) -> None:
    stream = Stream(1600)  # 100 MB, chunked
    status, body = _post(api, stream, {})
    assert status == 401 and body["code"] == "unauthorized" and stream.pulled == 0


def test_a_body_with_an_unknown_token_gets_401_before_it_is_read(api: Api) -> None:
    stream = Stream(1600)
    status, body = _post(api, stream, {"Authorization": "Bearer erp_not-a-token", "Idempotency-Key": "k"})
    assert status == 401 and body["code"] == "unauthorized" and stream.pulled == 0
    assert _count(api, IdempotencyKey) == 0


def test_a_declared_length_over_the_limit_gets_413_unread(api: Api) -> None:
    stream = Stream(2)
    status, body = _post(api, stream, {**api.headers("admin"), "Content-Length": str(HUNDRED_MB)})
    assert status == 413 and body["code"] == "body_too_large" and stream.pulled == 0
    assert "1048576 bytes" in body["detail"]


def test_a_chunked_body_stops_being_read_at_the_limit(api: Api) -> None:
    for headers in (api.headers("admin"), api.headers("admin", key="big")):  # read by the route, by the middleware
        stream = Stream(1600)
        status, body = _post(api, stream, headers)
        assert status == 413 and body["code"] == "body_too_large", body
        assert stream.pulled == LIMIT // CHUNK + 1  # the chunk that crossed the limit, not one more
    assert _count(api, IdempotencyKey) == 0 and _count(api, Customer) == 0


def test_a_body_under_the_limit_is_read_and_validated(api: Api) -> None:
    big_name = {"code": uid("C"), "name": "x" * 900_000}
    refused = api.post("/customers", big_name)
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "name"
    assert api.post("/customers", {"code": uid("C"), "name": "fine"}, role=None).status_code == 401
    assert api.ok(api.post("/customers", {"code": uid("C"), "name": "fine"}), 201)["name"] == "fine"
    assert api.get("/customers").status_code == 200  # requests without a body pass the gate untouched


def test_the_limit_comes_from_the_api_settings(api: Api) -> None:
    settings = Settings(database_url=str(api.erp.engine.url), api=ApiSettings(max_body_bytes=2048))
    small = Api(Client(create_app(bootstrap(api.erp.engine, settings))), api.erp, api.tokens)
    read = small.post("/customers", {"code": uid("C"), "name": "x" * 1500})  # under 2048 bytes: read, validated
    assert read.status_code == 422 and read.json()["errors"][0]["field"] == "name"
    refused = small.post("/customers", {"code": uid("C"), "name": "x" * 2100})
    assert refused.status_code == 413 and "2048 bytes" in refused.json()["detail"]
    assert refused.headers["content-type"] == "application/problem+json"
