"""The access model: who the actor is, the roles, and which role may do what. Used by the services (so the CLI
and the API obey the same table), and by the API to authenticate bearer tokens.

`admin` may do everything and `viewer` may read everything; every other role is named, per permission,
in `PERMISSIONS`, the one table to read when auditing who may do what. Services check the write permission
of the unit of work's actor before they touch anything (`require`); the API checks read permissions.

Tokens are shown once and stored as sha256 hex. A known token's actor is cached for `TOKEN_TTL_S` seconds,
sparing every request a pool checkout and a query. `revoke_token` drops the cache of its own process at
once; other processes (the server's other workers, a server when the CLI revokes) honour a revocation
within `TOKEN_TTL_S`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import wraps
from typing import Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine, insert, select, update

from erpcore.exceptions import Forbidden, NotFound, ValidationFailed
from erpcore.models import ApiToken


class AccessRole(StrEnum):
    """A job a user holds (not to be confused with `domain.accounts.Role`, an account's role in postings)."""

    ADMIN = "admin"
    SALES = "sales"
    PURCHASING = "purchasing"
    WAREHOUSE = "warehouse"
    FINANCE = "finance"
    OPERATIONS = "operations"
    VIEWER = "viewer"


R = AccessRole
PERMISSIONS: dict[str, frozenset[AccessRole]] = {
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
    "operations:read": frozenset({R.OPERATIONS}),
    "operations:write": frozenset({R.OPERATIONS}),
    "admin:tokens": frozenset(),
    "periods:read": frozenset({R.FINANCE}),
    "periods:close": frozenset({R.FINANCE}),
    "periods:reopen": frozenset(),
    "production.bom.write": frozenset({R.PURCHASING}),
    "production.workorder.write": frozenset({R.WAREHOUSE}),
    "production.read": frozenset({R.WAREHOUSE, R.PURCHASING, R.FINANCE}),
    # hire to payroll (finance until the access model has an HR role); `reveal` shows sensitive fields unmasked
    "hr.employee.write": frozenset({R.FINANCE}),
    "hr.employee.reveal": frozenset({R.FINANCE}),
    "hr.payroll.run": frozenset({R.FINANCE}),
    "hr.payroll.pay": frozenset({R.FINANCE}),
    "hr.read": frozenset({R.FINANCE}),
    "partners.tax_id.reveal": frozenset({R.FINANCE}),
    "sales.return.read": frozenset({R.SALES, R.WAREHOUSE, R.FINANCE}),
    "sales.return.write": frozenset({R.SALES, R.WAREHOUSE}),
    "purchase.return.read": frozenset({R.PURCHASING, R.WAREHOUSE, R.FINANCE}),
    "purchase.return.write": frozenset({R.PURCHASING, R.WAREHOUSE}),
    "purchase.requisition.cancel": frozenset({R.PURCHASING}),
    "purchase.receipt.cancel": frozenset({R.WAREHOUSE}),
    "purchase.payment.cancel": frozenset({R.FINANCE}),
    "sales.receipt.cancel": frozenset({R.FINANCE}),
    "rules.read": frozenset({R.FINANCE, R.PURCHASING, R.SALES}),
    "rules.write": frozenset(),
    "finance.budget.read": frozenset({R.FINANCE, R.PURCHASING}),
    "finance.budget.write": frozenset({R.FINANCE}),
    "purchase.order.approve": frozenset({R.PURCHASING, R.FINANCE}),
    "sales.order.approve": frozenset({R.SALES, R.FINANCE}),
}


@dataclass(frozen=True)
class Actor:
    """Who acts: the name written on audit trails, the role that decides what they may do, and the API token
    they authenticated with (None for the CLI and the system)."""

    name: str
    role: AccessRole
    token_id: int | None = None


SYSTEM = Actor("system", AccessRole.ADMIN)


def cli_actor() -> Actor:
    """The operator at the shell: a named admin (whoever can run the CLI can reach the database)."""
    return Actor(f"cli:{getpass.getuser()}", AccessRole.ADMIN)


def allowed(role: AccessRole, permission: str) -> bool:
    """Whether `role` holds `permission` (admin: everything; viewer: every `:read` and `.read`)."""
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")
    if role is AccessRole.ADMIN:
        return True
    if role is AccessRole.VIEWER:
        return permission.endswith((":read", ".read"))
    return role in PERMISSIONS[permission]


def require(actor: Actor, permission: str) -> None:
    """Raise Forbidden (403, exit 1) unless `actor` holds `permission`."""
    if not allowed(actor.role, permission):
        raise Forbidden(f"role {actor.role.value!r} may not do this (needs {permission})")


class Acting(Protocol):
    @property
    def actor(self) -> Actor: ...


A = TypeVar("A", bound=Acting)
P = ParamSpec("P")
T = TypeVar("T")


def guarded(permission: str) -> Callable[[Callable[Concatenate[A, P], T]], Callable[Concatenate[A, P], T]]:
    """Declare the permission a service needs: it refuses an actor without it before any work.

    The permission stays readable on the service (`service.permission`), so the API checks it before
    reading a body, and a test can walk every service.
    """
    if permission not in PERMISSIONS:
        raise KeyError(f"unknown permission {permission!r}")

    def decorate(service: Callable[Concatenate[A, P], T]) -> Callable[Concatenate[A, P], T]:
        @wraps(service)
        def run(uow: A, /, *args: P.args, **kwargs: P.kwargs) -> T:
            require(uow.actor, permission)
            return service(uow, *args, **kwargs)

        run.permission = permission  # type: ignore[attr-defined]
        return run

    return decorate


def permission_of(service: Callable[..., object]) -> str:
    """The permission a `guarded` service declared."""
    found = getattr(service, "permission", None)
    if not isinstance(found, str):
        raise TypeError(f"{getattr(service, '__name__', service)!r} declares no permission (use @guarded)")
    return found


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


TOKEN_TTL_S = 5.0
# (database URL, token hash) -> (monotonic expiry, actor); only known tokens are cached, so a token
# created a moment ago is never refused from the cache.
_known: dict[tuple[str, str], tuple[float, Actor]] = {}


def cached(engine: Engine, token: str) -> Actor | None:
    """The token's actor if the cache still holds it, without touching the database."""
    hit = _known.get((str(engine.url), token_hash(token)))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def lookup(engine: Engine, token: str) -> Actor | None:
    """The live (not revoked) token's actor, or None; cached for `TOKEN_TTL_S` seconds."""
    key = (str(engine.url), token_hash(token))
    hit = _known.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with engine.connect() as conn:
        row = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role).where(
            ApiToken.token_hash == key[1], ApiToken.revoked_at.is_(None))).one_or_none()
    if row is None:
        _known.pop(key, None)
        return None
    actor = Actor(row.name, AccessRole(row.role), row.id)
    _known[key] = (now + TOKEN_TTL_S, actor)
    return actor


def create_token(erp: HasEngine, role: str, name: str, actor: Actor = SYSTEM) -> str:
    """Create a token for `role` as `actor` (an admin); returns the token, which is stored only as its sha256."""
    require(actor, "admin:tokens")
    if role not in AccessRole.__members__.values():
        raise ValidationFailed(f"unknown role {role!r}; one of: {', '.join(r.value for r in AccessRole)}")
    if not name.strip():
        raise ValidationFailed("a token needs a name")
    token = "erp_" + secrets.token_urlsafe(32)
    with erp.engine.begin() as conn:
        conn.execute(insert(ApiToken).values(name=name, role=role, token_hash=token_hash(token),
                                             created_at=dt.datetime.now(dt.UTC)))
    return token


def list_tokens(erp: HasEngine) -> list[dict[str, object]]:
    """Every token as rows (never the token or its hash)."""
    with erp.engine.connect() as conn:
        rows = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.created_at,
                                   ApiToken.revoked_at).order_by(ApiToken.id)).mappings().all()
    return [dict(r) for r in rows]


def revoke_token(erp: HasEngine, token_id: int, actor: Actor = SYSTEM) -> None:
    """Revoke a token as `actor` (an admin): at once in this process, within `TOKEN_TTL_S` in others (see the
    module docstring)."""
    require(actor, "admin:tokens")
    with erp.engine.begin() as conn:
        done = conn.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                            .values(revoked_at=dt.datetime.now(dt.UTC)))
    for key, (_, actor) in list(_known.items()):
        if actor.token_id == token_id:
            _known.pop(key, None)
    if done.rowcount != 1:
        raise NotFound(f"token {token_id} does not exist or is already revoked")
