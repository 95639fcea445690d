"""Authentication of API requests: the bearer token of a request -> the actor (see `erpcore.access`).

The API only parses the token; who may do what is `erpcore.access`, which the services enforce for writes
(so the CLI obeys the same table) and `require` below enforces for reads.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool

from erpcore import access, audit
from erpcore.access import Actor
from erpcore.exceptions import Unauthorized

BEARER = HTTPBearer(auto_error=False, description="a token from `erpops token create`")  # for OpenAPI only


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def authenticate(request: Request) -> Actor:
    """The caller of `request` (401 without a known token); cached on the request state."""
    known = getattr(request.state, "actor", None)
    if isinstance(known, Actor):
        return known
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized("an `Authorization: Bearer <token>` header is required")
    actor = access.lookup(request.app.state.erp.engine, token)
    if actor is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    request.state.actor = actor
    return actor


def require(permission: str) -> Callable[[Request], Awaitable[Actor]]:
    """A dependency admitting only actors whose role holds `permission` (401 unknown token, 403 wrong role,
    recorded on the audit trail). The route's permission stays readable as `dependency.permission`."""
    access.resolve(permission)

    async def dependency(request: Request, _: Annotated[object, Depends(BEARER)] = None) -> Actor:
        # On the event loop: a cached token costs no thread hand-off; a miss reads the database on a thread.
        token = bearer(request.headers.get("authorization"))
        actor = access.cached(request.app.state.erp.engine, token) if token else None
        if actor is None:
            actor = await run_in_threadpool(authenticate, request)
        request.state.actor = actor
        if not access.holds(actor, permission):
            where = {"method": request.method, "path": request.url.path}
            await run_in_threadpool(audit.record, request.app.state.erp.engine, actor.name, actor.role,
                                    [access.denied_entry(permission, "route", where, request.url.path[:80])])
            access.require(actor, permission)
        return actor

    dependency.permission = permission  # type: ignore[attr-defined]
    return dependency
