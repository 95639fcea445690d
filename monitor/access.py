"""Who may use the operations endpoints monitor mounts on the API: the one place monitor meets the access model.

Authentication is the business API's own (`Authorization: Bearer <token>` to a principal with a role);
only the two operations permissions below are monitor's. Every import of the API's access model sits in
this module, so moving that model (e.g. to `erpcore.access`) means changing these lines only.

    operations:read   admin, viewer   silences, rules, runbooks, /metrics (unless `metrics_public`)
    operations:write  admin           create and expire silences
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from erpcore.api.auth import BEARER, Principal, Role, authenticate
from erpcore.exceptions import Forbidden

OPERATIONS_READ = "operations:read"
OPERATIONS_WRITE = "operations:write"

OPERATIONS_ROLES: dict[str, frozenset[Role]] = {
    OPERATIONS_READ: frozenset({Role.ADMIN, Role.VIEWER}),
    OPERATIONS_WRITE: frozenset({Role.ADMIN}),
}


def may(role: Role, permission: str) -> bool:
    """Whether `role` holds the operations `permission`."""
    return role in OPERATIONS_ROLES[permission]


def require(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A FastAPI dependency: 401 without a known bearer token, 403 for a role without `permission`."""
    if permission not in OPERATIONS_ROLES:
        raise KeyError(f"unknown operations permission {permission!r}")

    async def dependency(request: Request, _: Annotated[object, Depends(BEARER)] = None) -> Principal:
        principal = await run_in_threadpool(authenticate, request)
        if not may(principal.role, permission):
            raise Forbidden(f"role {principal.role.value!r} may not do this (needs {permission})")
        return principal

    return dependency


def check_request(request: Request, permission: str) -> Principal:
    """The same check for a plain (non-dependency) endpoint; raises Unauthorized or Forbidden."""
    principal = authenticate(request)
    if not may(principal.role, permission):
        raise Forbidden(f"role {principal.role.value!r} may not do this (needs {permission})")
    return principal
