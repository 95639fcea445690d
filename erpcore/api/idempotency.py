"""Idempotent POSTs: a retried request (same `Idempotency-Key`, token and body) gets the first response.

The key is reserved in its own short transaction before the route runs (status 0 = in flight), and the
response is stored after it; a concurrent duplicate meets the reservation and gets 409, a reused key
with another request gets 422. When the route fails unexpectedly (5xx) the key is released, so the
client may retry; an in-flight reservation older than `STALE_AFTER` (a crashed worker) is taken over.

The middleware leaves a `Claim` on the request; the route's unit of work (see `deps.writer`) runs the
claim's `mark_applied` step, recording the key applied (status 1) in the business write's own transaction,
just before it commits. So a write that committed is never run twice: its key is neither released on a
later 5xx nor taken over when stale; a retry of an applied request whose response was never stored (the
worker died in between) gets 409, not a second write.

The response is stored before it is sent: a client that got an answer and retries at once gets the replay,
never "in flight".
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from erpcore import access
from erpcore.access import Actor
from erpcore.api.auth import bearer
from erpcore.api.errors import PROBLEM_JSON, problem
from erpcore.exceptions import Conflict, IdempotencyMismatch
from erpcore.models import IdempotencyKey
from erpcore.services.unit_of_work import UnitOfWork

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "idempotency-key"
IN_FLIGHT = 0
APPLIED = 1  # the write committed; the response is not stored yet
MAX_KEY = 200
STALE_AFTER = dt.timedelta(minutes=10)


class Outcome(StrEnum):
    RESERVED = "reserved"
    REPLAY = "replay"
    MISMATCH = "mismatch"
    IN_FLIGHT = "in_flight"
    APPLIED = "applied"


@dataclass(frozen=True)
class Reservation:
    outcome: Outcome
    status_code: int = 0
    body: str = ""


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same": method, path, query string and body bytes."""
    digest = hashlib.sha256(f"{method} {path}?".encode() + query + b"\n")
    digest.update(body)
    return digest.hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def reserve(engine: Engine, key: str, token_id: int, digest: str) -> Reservation:
    """Claim `key` for this token, or report what the first request with it left behind."""
    try:
        with engine.begin() as conn:
            conn.execute(insert(IdempotencyKey).values(key=key, token_id=token_id, request_hash=digest,
                                                       status_code=IN_FLIGHT, response_body="", created_at=_now()))
        return Reservation(Outcome.RESERVED)
    except IntegrityError:
        pass
    with engine.begin() as conn:
        row = conn.execute(select(IdempotencyKey.request_hash, IdempotencyKey.status_code,
                                  IdempotencyKey.response_body, IdempotencyKey.created_at)
                           .where(IdempotencyKey.key == key, IdempotencyKey.token_id == token_id)).one_or_none()
        if row is None:  # released between our insert and this read: try once more
            return reserve(engine, key, token_id, digest)
        if row.request_hash != digest:
            return Reservation(Outcome.MISMATCH)
        if row.status_code not in (IN_FLIGHT, APPLIED):
            return Reservation(Outcome.REPLAY, row.status_code, row.response_body)
        if _is_stale(row.created_at) and row.status_code == APPLIED:
            return Reservation(Outcome.APPLIED)
        if _is_stale(row.created_at) and _take_over_stale(conn, key, token_id, row.created_at):
            return Reservation(Outcome.RESERVED)
    return Reservation(Outcome.IN_FLIGHT)


def _is_stale(created_at: dt.datetime) -> bool:
    aware = created_at if created_at.tzinfo else created_at.replace(tzinfo=dt.UTC)
    return _now() - aware >= STALE_AFTER


def _take_over_stale(conn: Any, key: str, token_id: int, created_at: dt.datetime) -> bool:
    result = conn.execute(update(IdempotencyKey).where(
        IdempotencyKey.key == key, IdempotencyKey.token_id == token_id, IdempotencyKey.status_code == IN_FLIGHT,
        IdempotencyKey.created_at == created_at).values(created_at=_now()))
    return bool(result.rowcount == 1)


@dataclass(frozen=True)
class Claim:
    """The Idempotency-Key this request holds, as the middleware reserved it."""

    key: str
    token_id: int

    def mark_applied(self, uow: UnitOfWork) -> None:
        """Pre-commit step: record, in the business write's transaction, that the request was applied."""
        uow.conn.execute(update(IdempotencyKey).where(
            IdempotencyKey.key == self.key, IdempotencyKey.token_id == self.token_id,
            IdempotencyKey.status_code == IN_FLIGHT,
        ).values(status_code=APPLIED))


def complete(engine: Engine, key: str, token_id: int, status_code: int, body: str) -> None:
    """Store the first response, to be replayed to every retry."""
    with engine.begin() as conn:
        conn.execute(update(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.token_id == token_id)
                     .values(status_code=status_code, response_body=body))


def release(engine: Engine, key: str, token_id: int) -> None:
    """Forget an in-flight key so the client may retry after an unexpected failure."""
    with engine.begin() as conn:
        conn.execute(delete(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.token_id == token_id,
                                                  IdempotencyKey.status_code == IN_FLIGHT))


class IdempotencyMiddleware:
    """ASGI middleware applying the protocol above to every POST that carries the header."""

    def __init__(self, app: ASGIApp, engine: Engine) -> None:
        self.app = app
        self.engine = engine

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        key = Headers(scope=scope).get(HEADER) if scope["type"] == "http" and scope["method"] == "POST" else None
        if key is None:
            await self.app(scope, receive, send)
            return
        actor = await self._actor(scope)
        if actor is None or actor.token_id is None:  # the route answers 401
            await self.app(scope, receive, send)
            return
        if not key.strip() or len(key) > MAX_KEY:
            await _send_problem(send, 422, "request_invalid",
                                f"Idempotency-Key must be 1 to {MAX_KEY} characters")
            return
        await self._run_once(scope, receive, send, key, actor.token_id)

    async def _actor(self, scope: Scope) -> Actor | None:
        token = bearer(Headers(scope=scope).get("authorization"))
        actor = None if token is None else await run_in_threadpool(access.lookup, self.engine, token)
        if actor is not None:
            scope.setdefault("state", {})["actor"] = actor
        return actor

    async def _run_once(self, scope: Scope, receive: Receive, send: Send, key: str, token_id: int) -> None:
        body = await _read_body(receive)
        digest = request_hash(scope["method"], scope["path"], scope.get("query_string", b""), body)
        found = await run_in_threadpool(reserve, self.engine, key, token_id, digest)
        if found.outcome is Outcome.REPLAY:
            await _send_stored(send, found.status_code, found.body)
        elif found.outcome is Outcome.MISMATCH:
            await _send_problem(send, IdempotencyMismatch.status_code, IdempotencyMismatch.code,
                                "this Idempotency-Key was already used with a different request")
        elif found.outcome is Outcome.APPLIED:
            await _send_problem(send, Conflict.status_code, "idempotency_key_applied",
                                "a request with this Idempotency-Key was applied but its response was lost; "
                                "read the document instead of retrying")
        elif found.outcome is Outcome.IN_FLIGHT:
            await _send_problem(send, Conflict.status_code, "idempotency_key_in_flight",
                                "a request with this Idempotency-Key is still in progress; retry when it has finished")
        else:
            await self._run_and_store(scope, _replaying(body, receive), send, key, token_id)

    async def _run_and_store(self, scope: Scope, receive: Receive, send: Send, key: str, token_id: int) -> None:
        status, chunks, held = 500, [], []

        async def capture(message: Message) -> None:  # held back until the response is stored
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            elif message["type"] == "http.response.body":
                chunks.append(bytes(message.get("body", b"")))
            held.append(message)

        scope.setdefault("state", {})["idempotency"] = Claim(key, token_id)
        try:
            await self.app(scope, receive, capture)
        except BaseException:
            await run_in_threadpool(release, self.engine, key, token_id)
            raise
        if status >= 500:
            await run_in_threadpool(release, self.engine, key, token_id)
        else:
            await run_in_threadpool(complete, self.engine, key, token_id, status, b"".join(chunks).decode())
        for message in held:
            await send(message)


async def _read_body(receive: Receive) -> bytes:
    parts = []
    while True:
        message = await receive()
        parts.append(bytes(message.get("body", b"")))
        if not message.get("more_body"):
            return b"".join(parts)


def _replaying(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


async def _send_stored(send: Send, status: int, body: str) -> None:
    media = PROBLEM_JSON if status >= 400 else "application/json"
    await _send_raw(send, status, body.encode(), media, replayed=True)


async def _send_problem(send: Send, status: int, code: str, detail: str) -> None:
    response = problem(status, code, detail)
    await _send_raw(send, status, bytes(response.body), PROBLEM_JSON)


async def _send_raw(send: Send, status: int, body: bytes, media: str, replayed: bool = False) -> None:
    headers = [(b"content-type", media.encode()), (b"content-length", str(len(body)).encode())]
    if replayed:
        headers.append((b"idempotent-replayed", b"true"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})

