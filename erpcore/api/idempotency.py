"""Idempotent POSTs: a retried request (same `Idempotency-Key`, token and body) gets the first response.

The key is reserved in its own short transaction before the route runs, and the response is stored after it
(see `keystore` for the states); a concurrent duplicate meets the reservation and gets 409, a reused key with
another request gets 422. When the route fails unexpectedly (5xx), or refuses the request before its write
(4xx, nothing written), the key is released, so the client may retry; an in-flight reservation older than
`keystore.STALE_AFTER` (a crashed worker) is taken over.

The middleware leaves a `Claim` on the request; the route's unit of work (see `deps.writer`) runs the
claim's `mark_applied` step, recording the key applied, with the document the request wrote, in the business
write's own transaction just before it commits. So a write that committed is never run twice: its key is
neither released on a later 5xx nor taken over when stale, and a retry whose first response was lost (the
worker died in between) is answered with that document (`replay`).

The response is stored before it is sent: a client that got an answer and retries at once gets the replay,
never "in flight". Keys expire after `api.idempotency_window_hours`; one bounded purge batch runs at most
once every `PURGE_EVERY_S` seconds per process, on a reservation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from erpcore import access
from erpcore.access import Actor
from erpcore.api import keystore, replay
from erpcore.api.auth import bearer
from erpcore.api.errors import PROBLEM_JSON, problem
from erpcore.api.keystore import Claim, Outcome, Written
from erpcore.api.owner import OwnerLock, owner_lock
from erpcore.exceptions import Conflict, IdempotencyMismatch

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEADER = "idempotency-key"
MAX_KEY = 200
PURGE_EVERY_S = 60.0
__all__ = ["Claim", "IdempotencyMiddleware", "request_hash"]


def request_hash(method: str, path: str, query: bytes, body: bytes) -> str:
    """What makes two requests "the same": method, path, query string and body bytes."""
    digest = hashlib.sha256(f"{method} {path}?".encode() + query + b"\n")
    digest.update(body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    """ASGI middleware applying the protocol above to every POST that carries the header."""

    def __init__(self, app: ASGIApp, engine: Engine, window: dt.timedelta = keystore.WINDOW) -> None:
        self.app = app
        self.engine = engine
        self.window = window
        self._purge_at = 0.0  # monotonic time of the next purge batch

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
        known = scope.get("state", {}).get("actor")  # authenticated by the gate before the body
        if isinstance(known, Actor):
            return known
        token = bearer(Headers(scope=scope).get("authorization"))
        actor = None if token is None else await run_in_threadpool(access.lookup, self.engine, token)
        if actor is not None:
            scope.setdefault("state", {})["actor"] = actor
        return actor

    async def _run_once(self, scope: Scope, receive: Receive, send: Send, key: str, token_id: int) -> None:
        body = await _read_body(receive)
        digest = request_hash(scope["method"], scope["path"], scope.get("query_string", b""), body)
        found, lock = await run_in_threadpool(self._reserve, key, token_id, digest)
        await self._answer(found, scope, _replaying(body, receive), send, key, token_id, lock)

    async def _answer(self, found: keystore.Reservation, scope: Scope, receive: Receive, send: Send, key: str,
                      token_id: int, lock: OwnerLock | None) -> None:
        if found.outcome is Outcome.REPLAY:
            await _send_stored(send, found.status_code, found.body)
        elif found.outcome is Outcome.MISMATCH:
            await _send_problem(send, IdempotencyMismatch.status_code, IdempotencyMismatch.code,
                                "this Idempotency-Key was already used with a different request")
        elif found.outcome is Outcome.APPLIED:
            await self._send_written(send, key, token_id, found.written)
        elif found.outcome is Outcome.IN_FLIGHT:
            await _send_problem(send, Conflict.status_code, "idempotency_key_in_flight",
                                "a request with this Idempotency-Key is still in progress; retry when it has finished")
        else:
            await self._run_and_store(scope, receive, send, key, token_id, lock)

    def _reserve(self, key: str, token_id: int, digest: str) -> tuple[keystore.Reservation, OwnerLock | None]:
        """Reserve the key; on PostgreSQL the owner lock stays held only when the key was reserved."""
        if time.monotonic() >= self._purge_at:  # piggy-backed: one bounded batch, at most once a minute
            self._purge_at = time.monotonic() + PURGE_EVERY_S
            keystore.purge_quietly(self.engine, self.window)
        lock = owner_lock(self.engine, key, token_id)
        found = keystore.Reservation(Outcome.IN_FLIGHT)
        try:
            found = keystore.reserve(self.engine, key, token_id, digest, self.window, lock)
        finally:
            if lock is not None and found.outcome is not Outcome.RESERVED:
                lock.let_go()
        return found, lock if found.outcome is Outcome.RESERVED else None

    async def _send_written(self, send: Send, key: str, token_id: int, written: Written | None) -> None:
        """Answer a retry of an applied request whose response was lost with the document it wrote."""
        body = None if written is None else await run_in_threadpool(replay.render, self.engine, written)
        if written is None or body is None:
            await _send_problem(send, Conflict.status_code, "idempotency_key_applied",
                                "a request with this Idempotency-Key was applied but its response was lost; "
                                "read the document instead of retrying")
            return
        await run_in_threadpool(keystore.complete, self.engine, key, token_id, written.status, body.decode())
        await _send_raw(send, written.status, body, "application/json", replayed=True)

    async def _run_and_store(self, scope: Scope, receive: Receive, send: Send, key: str, token_id: int,
                             lock: OwnerLock | None) -> None:
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
            await run_in_threadpool(self._settle, key, token_id, None, lock)
            raise
        await run_in_threadpool(self._settle, key, token_id, (status, b"".join(chunks).decode()), lock)
        for message in held:
            await send(message)

    def _settle(self, key: str, token_id: int, response: tuple[int, str] | None, lock: OwnerLock | None) -> None:
        """Store the response (or release the key after a failure), then give up the owner lock."""
        try:
            if response is None or response[0] >= 500:
                keystore.release(self.engine, key, token_id, lock)
            else:
                keystore.complete(self.engine, key, token_id, *response, lock)
        finally:
            if lock is not None:
                lock.let_go()


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

