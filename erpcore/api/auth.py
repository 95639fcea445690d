"""Bearer tokens with roles: tokens are shown once and stored as sha256 hex; least privilege per role.

`admin` may do everything and `viewer` may read everything; every other role is named, per permission,
in `PERMISSIONS` below, the one table to read when auditing who may do what.

A known token's principal is cached for `TOKEN_TTL_S` seconds, sparing every request a pool checkout and a
query. Revoking through `revoke_token` drops the cache of its own process at once; other processes (the
server's other workers, a server when the CLI revokes) honour a revocation within `TOKEN_TTL_S`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from sqlalchemy import Engine, insert, select, update

from erpcore.exceptions import Forbidden, NotFound, Unauthorized, ValidationFailed
from erpcore.models import ApiToken
from erpcore.services.bootstrap import Erp


class Role(StrEnum):
    ADMIN = "admin"
    SALES = "sales"
    PURCHASING = "purchasing"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    VIEWER = "viewer"


R = Role
PERMISSIONS: dict[str, frozenset[Role]] = {
    "master:read": frozenset({R.SALES, R.PURCHASING, R.WAREHOUSE, R.FINANCE}),
    "items:write": frozenset(),
    "warehouses:write": frozenset(),
    "customers:write": frozenset({R.SALES}),
    "suppliers:write": frozenset({R.PURCHASING}),
    "sales:read": frozenset({R.SALES, R.WAREHOUSE, R.FINANCE}),
    "sales:write": frozenset({R.SALES}),
    "shipments:write": frozenset({R.WAREHOUSE}),
    "invoicing:write": frozenset({R.SALES, R.FINANCE}),
    "invoices:read": frozenset({R.SALES, R.FINANCE}),
    "invoices:write": frozenset({R.FINANCE}),
    "receipts:write": frozenset({R.SALES, R.FINANCE}),
    "purchasing:read": frozenset({R.PURCHASING, R.WAREHOUSE, R.FINANCE}),
    "purchasing:write": frozenset({R.PURCHASING}),
    "receiving:write": frozenset({R.WAREHOUSE}),
    "supplier_invoices:read": frozenset({R.PURCHASING, R.FINANCE}),
    "supplier_invoices:write": frozenset({R.PURCHASING, R.FINANCE}),
    "payments:write": frozenset({R.FINANCE}),
    "reports:read": frozenset({R.FINANCE}),
    "stock_report:read": frozenset({R.FINANCE, R.WAREHOUSE}),
}


BEARER = HTTPBearer(auto_error=False, description="a token from `erpops token create`")  # for OpenAPI only


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, name (the actor of audit trails) and role."""

    token_id: int
    name: str
    role: Role


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def allowed(role: Role, permission: str) -> bool:
    """Whether `role` holds `permission` (admin: everything; viewer: every `:read`)."""
    if role is Role.ADMIN:
        return True
    if role is Role.VIEWER:
        return permission.endswith(":read")
    return role in PERMISSIONS[permission]


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None."""
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


TOKEN_TTL_S = 5.0
# (database URL, token hash) -> (monotonic expiry, principal); only known tokens are cached, so a token
# created a moment ago is never refused from the cache.
_known: dict[tuple[str, str], tuple[float, Principal]] = {}


def cached(engine: Engine, token: str) -> Principal | None:
    """The token's principal if the cache still holds it, without touching the database."""
    hit = _known.get((str(engine.url), token_hash(token)))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def lookup(engine: Engine, token: str) -> Principal | None:
    """The live (not revoked) token's principal, or None; cached for `TOKEN_TTL_S` seconds."""
    key = (str(engine.url), token_hash(token))
    hit = _known.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    principal = _lookup(engine, key[1])
    if principal is None:
        _known.pop(key, None)
    else:
        _known[key] = (now + TOKEN_TTL_S, principal)
    return principal


def _lookup(engine: Engine, digest: str) -> Principal | None:
    with engine.connect() as conn:
        row = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role).where(
            ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None))).one_or_none()
    return None if row is None else Principal(row.id, row.name, Role(row.role))


def authenticate(request: Request) -> Principal:
    """The caller of `request` (401 without a known token); cached on the request state."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    token = bearer(request.headers.get("authorization"))
    if token is None:
        raise Unauthorized("an `Authorization: Bearer <token>` header is required")
    principal = lookup(request.app.state.erp.engine, token)
    if principal is None:
        raise Unauthorized("the bearer token is unknown or revoked")
    request.state.principal = principal
    return principal


def require(permission: str) -> Callable[[Request], Awaitable[Principal]]:
    """A dependency admitting only roles that hold `permission` (401 unknown token, 403 wrong role)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    async def dependency(request: Request, _: Annotated[object, Depends(BEARER)] = None) -> Principal:
        # On the event loop: a cached token costs no thread hand-off; a miss reads the database on a thread.
        token = bearer(request.headers.get("authorization"))
        principal = cached(request.app.state.erp.engine, token) if token else None
        if principal is None:
            principal = await run_in_threadpool(authenticate, request)
        request.state.principal = principal
        if not allowed(principal.role, permission):
            raise Forbidden(f"role {principal.role.value!r} may not do this (needs {permission})")
        return principal

    return dependency


def create_token(erp: Erp, role: str, name: str) -> str:
    """Create a token for `role`; returns the token itself, which is stored only as its sha256."""
    if role not in Role.__members__.values():
        raise ValidationFailed(f"unknown role {role!r}; one of: {', '.join(r.value for r in Role)}")
    if not name.strip():
        raise ValidationFailed("a token needs a name")
    token = "erp_" + secrets.token_urlsafe(32)
    with erp.engine.begin() as conn:
        conn.execute(insert(ApiToken).values(name=name, role=role, token_hash=token_hash(token),
                                             created_at=dt.datetime.now(dt.UTC)))
    return token


def list_tokens(erp: Erp) -> list[dict[str, object]]:
    """Every token as rows (never the token or its hash)."""
    with erp.engine.connect() as conn:
        rows = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.created_at,
                                   ApiToken.revoked_at).order_by(ApiToken.id)).mappings().all()
    return [dict(r) for r in rows]


def revoke_token(erp: Erp, token_id: int) -> None:
    """Revoke a token: at once in this process, within `TOKEN_TTL_S` in others (see the module docstring)."""
    with erp.engine.begin() as conn:
        done = conn.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                            .values(revoked_at=dt.datetime.now(dt.UTC)))
    for key, (_, principal) in list(_known.items()):
        if principal.token_id == token_id:
            _known.pop(key, None)
    if done.rowcount != 1:
        raise NotFound(f"token {token_id} does not exist or is already revoked")
