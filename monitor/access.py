"""Who may use the operations endpoints monitor mounts on the API: the one place monitor meets the access model.

Authentication is the business API's own (`Authorization: Bearer <token>` to an actor with a role) and the
permissions are rows of the one table in `erpcore.access`:

    ops.monitor.read   admin, viewer, auditor, operations  silences, rules, runbooks, /metrics (unless `metrics_public`)
    ops.monitor.write  admin, operations                   create and expire silences

Every import of the access model sits in this module, so moving it again means changing these lines only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request

from erpcore import access
from erpcore.access import AccessRole, Actor
from erpcore.api.auth import authenticate
from erpcore.api.auth import require as api_require
from erpcore.api.openapi import document_problems

OPERATIONS_READ = "ops.monitor.read"
OPERATIONS_WRITE = "ops.monitor.write"

__all__ = ["OPERATIONS_READ", "OPERATIONS_WRITE", "AccessRole", "Actor", "check_request", "document", "may",
           "require"]


def may(role: AccessRole, permission: str) -> bool:
    """Whether `role` holds the operations `permission` (KeyError for a permission the table lacks)."""
    return access.allowed(role, permission)


def require(permission: str) -> Callable[[Request], Awaitable[Actor]]:
    """A FastAPI dependency: 401 without a known bearer token, 403 for a role without `permission`."""
    return api_require(permission)


def check_request(request: Request, permission: str) -> Actor:
    """The same check for a plain (non-dependency) endpoint; raises Unauthorized or Forbidden."""
    actor = authenticate(request)
    access.require(actor, permission)
    return actor


def document(app: FastAPI, prefix: str) -> None:
    """Declare in the API's OpenAPI document the problem+json answers (401, 403, 404, 422, ...) the routes under
    `prefix` give, as the business API's routes declare theirs: a client (or a fuzzer) reads the real contract."""
    document_problems(app, prefix)
