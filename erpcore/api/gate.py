"""The gate every request passes before anything reads its body: a size limit, then (for the API) a known token.

    Content-Length over the limit            -> 413 `body_too_large`, nothing read
    a chunked body growing over the limit    -> 413 `body_too_large` once the limit is crossed, the rest unread
    a body under /api/ (the ERP's routes and
    the tools' plugins) without a known
    bearer token                             -> 401, nothing read (authentication before buffering)

A request without a body passes untouched, and a known token costs no database round trip: the actor is
cached by `erpcore.access` and left on the request for the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

from erpcore import access
from erpcore.access import Actor
from erpcore.api.auth import bearer
from erpcore.api.errors import problem

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

TOO_LARGE = "body_too_large"


class BodyTooLarge(HTTPException):
    """The body crossed the limit while being read (a chunked body without Content-Length)."""

    code = TOO_LARGE

    def __init__(self, limit: int) -> None:
        super().__init__(413, detail=_too_large(limit))


def _too_large(limit: int) -> str:
    return f"the request body is larger than {limit} bytes (api.max_body_bytes); send a smaller one"


def declared_length(headers: Headers) -> int | None:
    """The Content-Length a request declares, or None (absent, or not a number: the server refuses those)."""
    value = headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


def counting(receive: Receive, limit: int) -> Receive:
    """`receive` that raises `BodyTooLarge` as soon as more than `limit` body bytes arrived."""
    seen = 0

    async def receive_counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise BodyTooLarge(limit)
        return message

    return receive_counted


class RequestGate:
    """ASGI middleware: the size limit on every request, authentication before buffering under `prefix`."""

    def __init__(self, app: ASGIApp, engine: Engine, max_body_bytes: int, prefix: str) -> None:
        self.app = app
        self.engine = engine
        self.limit = max_body_bytes
        self.prefix = prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        length = declared_length(headers)
        if length is not None and length > self.limit:
            await problem(413, TOO_LARGE, _too_large(self.limit))(scope, receive, send)
            return
        has_body = bool(length) or "transfer-encoding" in headers
        if not has_body:
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.prefix) and await self._actor(scope, headers) is None:
            await problem(401, "unauthorized", "a known `Authorization: Bearer <token>` header is required "
                          "before the body is read")(scope, receive, send)
            return
        await self._limited(scope, counting(receive, self.limit), send)

    async def _actor(self, scope: Scope, headers: Headers) -> Actor | None:
        token = bearer(headers.get("authorization"))
        if token is None:
            return None
        actor = access.cached(self.engine, token) or await run_in_threadpool(access.lookup, self.engine, token)
        if actor is not None:
            scope.setdefault("state", {})["actor"] = actor
        return actor

    async def _limited(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def send_noting(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_noting)
        except BodyTooLarge:  # read by a middleware (the routes' reads become a 413 in `errors`)
            if started:
                raise
            await problem(413, TOO_LARGE, _too_large(self.limit))(scope, receive, send)
