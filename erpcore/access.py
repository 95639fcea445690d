"""The access model: who the actor is, the roles, and which role may do what. Used by the services (so the CLI
and the API obey the same table), and by the API to authenticate bearer tokens.

Permissions are one per action, dotted `domain.object.action` (`sales.order.approve`); read permissions end in
`.read`. `PERMISSIONS` maps each to the built-in roles holding it, the one table to read when auditing who may
do what (`erpops roles show ROLE` prints a role's effective list):

- `admin` may do everything; `viewer` and `auditor` may read everything but the audit trail, which the auditor
  (and the controller) may read;
- the jobs (sales clerk, sales manager, buyer, warehouse, AP clerk, AR clerk, controller, HR) hold what their
  entries name; HR holds every `hr.*` permission;
- the broader roles of earlier releases (sales, purchasing, finance, operations) keep what they could do. A
  permission naming only those roles passes to their successor jobs (`SUCCESSORS`), so one added with the
  old roles still reaches the jobs;
- custom roles live in the database (`erpcore.roles`) and carry their permissions on the actor (`grants`).

Old colon-style names (`sales:write`) still resolve (`RENAMED`): holding one means holding everything it became.

Tokens are shown once and stored as sha256 hex; they expire (`expires_at`). A known token's actor is cached
for `TOKEN_TTL_S` seconds, sparing every request a pool checkout and a query. `revoke_token` drops the cache of
its own process at once; other processes (the server's other workers, a server when the CLI revokes) honour a
revocation, an expiry or a change of a custom role within `TOKEN_TTL_S`.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import inspect
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from sqlalchemy import Engine, insert, select, update

from erpcore import audit
from erpcore.domain.audit import Entry
from erpcore.exceptions import Forbidden, NotFound, ValidationFailed
from erpcore.models import ApiToken, Role, RolePermission


class AccessRole(StrEnum):
    """A built-in job (not to be confused with `domain.accounts.Role`, an account's role in postings)."""

    ADMIN = "admin"
    SALES_CLERK = "sales_clerk"
    SALES_MANAGER = "sales_manager"
    BUYER = "buyer"
    WAREHOUSE = "warehouse"
    AP_CLERK = "ap_clerk"
    AR_CLERK = "ar_clerk"
    CONTROLLER = "controller"
    HR = "hr"
    AUDITOR = "auditor"
    VIEWER = "viewer"
    # the broader roles of earlier releases, kept so their tokens keep working
    SALES = "sales"
    PURCHASING = "purchasing"
    FINANCE = "finance"
    OPERATIONS = "operations"


R = AccessRole
PERMISSIONS: dict[str, frozenset[AccessRole]] = {
    "master.data.read": frozenset({R.SALES, R.PURCHASING, R.WAREHOUSE, R.FINANCE, R.SALES_CLERK, R.SALES_MANAGER,
                                   R.BUYER, R.AP_CLERK, R.AR_CLERK, R.CONTROLLER}),
    "master.item.write": frozenset(),
    "master.warehouse.write": frozenset(),
    "master.customer.write": frozenset({R.SALES, R.SALES_MANAGER}),
    "master.supplier.write": frozenset({R.PURCHASING, R.BUYER}),
    "sales.order.read": frozenset({R.SALES, R.WAREHOUSE, R.FINANCE, R.SALES_CLERK, R.SALES_MANAGER, R.AR_CLERK,
                                   R.CONTROLLER}),
    "sales.order.create": frozenset({R.SALES, R.SALES_CLERK}),
    "sales.order.approve": frozenset({R.SALES, R.SALES_MANAGER, R.FINANCE, R.CONTROLLER}),  # the rulebook's approvers
    "sales.order.cancel": frozenset({R.SALES, R.SALES_MANAGER}),
    "sales.invoice.read": frozenset({R.SALES, R.FINANCE, R.SALES_CLERK, R.SALES_MANAGER, R.AR_CLERK, R.CONTROLLER}),
    "sales.invoice.post": frozenset({R.SALES, R.FINANCE, R.AR_CLERK}),
    "sales.invoice.cancel": frozenset({R.FINANCE, R.AR_CLERK}),
    "sales.receipt.post": frozenset({R.SALES, R.FINANCE, R.AR_CLERK}),
    "warehouse.shipment.post": frozenset({R.WAREHOUSE}),
    "warehouse.shipment.cancel": frozenset({R.WAREHOUSE}),
    "warehouse.receipt.post": frozenset({R.WAREHOUSE}),
    "warehouse.stock.read": frozenset({R.FINANCE, R.WAREHOUSE, R.BUYER, R.CONTROLLER}),
    "purchase.order.read": frozenset({R.PURCHASING, R.WAREHOUSE, R.FINANCE, R.BUYER, R.AP_CLERK, R.CONTROLLER}),
    "purchase.requisition.create": frozenset({R.PURCHASING, R.BUYER}),
    "purchase.order.create": frozenset({R.PURCHASING, R.BUYER}),
    "purchase.order.approve": frozenset({R.PURCHASING, R.FINANCE, R.CONTROLLER}),  # the rulebook's approvers
    "purchase.order.cancel": frozenset({R.PURCHASING, R.BUYER}),
    "purchase.invoice.read": frozenset({R.PURCHASING, R.FINANCE, R.BUYER, R.AP_CLERK, R.CONTROLLER}),
    "purchase.invoice.post": frozenset({R.PURCHASING, R.FINANCE, R.AP_CLERK}),
    "purchase.invoice.cancel": frozenset({R.PURCHASING, R.FINANCE, R.AP_CLERK}),
    "purchase.payment.post": frozenset({R.FINANCE, R.CONTROLLER}),
    "finance.report.read": frozenset({R.FINANCE, R.CONTROLLER}),
    "finance.period.read": frozenset({R.FINANCE, R.CONTROLLER}),
    "finance.period.close": frozenset({R.FINANCE, R.CONTROLLER}),
    "finance.period.reopen": frozenset(),
    "ops.monitor.read": frozenset({R.OPERATIONS}),
    "ops.monitor.write": frozenset({R.OPERATIONS}),
    "audit.trail.read": frozenset({R.AUDITOR, R.CONTROLLER}),
    "admin.tokens": frozenset(),
    "admin.outbox": frozenset(),  # webhook subscriptions: where business events go, and their signing secrets
    "admin.users": frozenset(),
    "admin.roles": frozenset(),
    "production.bom.write": frozenset({R.PURCHASING}),
    "production.workorder.write": frozenset({R.WAREHOUSE}),
    "production.read": frozenset({R.WAREHOUSE, R.PURCHASING, R.FINANCE, R.BUYER, R.CONTROLLER}),
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
    "rules.read": frozenset({R.FINANCE, R.PURCHASING, R.SALES, R.CONTROLLER}),
    "rules.write": frozenset(),
    "finance.budget.read": frozenset({R.FINANCE, R.PURCHASING, R.CONTROLLER, R.BUYER}),
    "finance.budget.write": frozenset({R.FINANCE, R.CONTROLLER}),
}

# colon-style names of earlier releases -> what they became (holding an old name = holding all of these)
RENAMED: dict[str, tuple[str, ...]] = {
    "master:read": ("master.data.read",),
    "items:write": ("master.item.write",),
    "warehouses:write": ("master.warehouse.write",),
    "customers:write": ("master.customer.write",),
    "suppliers:write": ("master.supplier.write",),
    "sales:read": ("sales.order.read",),
    "sales:write": ("sales.order.create", "sales.order.approve", "sales.order.cancel"),
    "shipments:write": ("warehouse.shipment.post", "warehouse.shipment.cancel"),
    "invoicing:write": ("sales.invoice.post",),
    "invoices:read": ("sales.invoice.read",),
    "invoices:write": ("sales.invoice.cancel",),
    "receipts:write": ("sales.receipt.post",),
    "purchasing:read": ("purchase.order.read",),
    "purchasing:write": ("purchase.requisition.create", "purchase.order.create", "purchase.order.approve",
                         "purchase.order.cancel"),
    "receiving:write": ("warehouse.receipt.post",),
    "supplier_invoices:read": ("purchase.invoice.read",),
    "supplier_invoices:write": ("purchase.invoice.post", "purchase.invoice.cancel"),
    "payments:write": ("purchase.payment.post",),
    "reports:read": ("finance.report.read",),
    "stock_report:read": ("warehouse.stock.read",),
    "operations:read": ("ops.monitor.read",),
    "operations:write": ("ops.monitor.write",),
    "admin:tokens": ("admin.tokens",),
    "periods:read": ("finance.period.read",),
    "periods:close": ("finance.period.close",),
    "periods:reopen": ("finance.period.reopen",),
}
JOBS = frozenset({R.SALES_CLERK, R.SALES_MANAGER, R.BUYER, R.AP_CLERK, R.AR_CLERK, R.CONTROLLER, R.HR, R.AUDITOR})
SUCCESSORS: dict[AccessRole, frozenset[AccessRole]] = {
    R.SALES: frozenset({R.SALES_MANAGER}), R.PURCHASING: frozenset({R.BUYER}), R.FINANCE: frozenset({R.CONTROLLER}),
}
DOMAIN_ROLES: dict[str, AccessRole] = {"hr": R.HR}  # the role holding every permission of a domain
READERS = frozenset({R.VIEWER, R.AUDITOR})


def is_read(permission: str) -> bool:
    return permission.endswith((".read", ":read"))


def resolve(permission: str) -> tuple[str, ...]:
    """The permissions `permission` stands for (itself, or what an old colon name became); KeyError if unknown."""
    if permission in PERMISSIONS:
        return (permission,)
    if permission in RENAMED:
        return RENAMED[permission]
    raise KeyError(f"unknown permission {permission!r}")


def _holds(role: str, permission: str) -> bool:
    if role == R.ADMIN:
        return True
    if role in READERS:  # the trail itself is the auditor's (and whoever its entry names)
        audit_trail = permission.startswith("audit.")
        return (is_read(permission) and not audit_trail) or (role == R.AUDITOR and audit_trail) or role in \
            PERMISSIONS[permission]
    holders = PERMISSIONS[permission]
    if role in holders or DOMAIN_ROLES.get(permission.partition(".")[0]) == role:
        return True
    if not holders & JOBS:  # named with the old roles only: their successor jobs hold it too
        return any(role in SUCCESSORS.get(h, ()) for h in holders)
    return False


def allowed(role: str, permission: str) -> bool:
    """Whether the built-in `role` holds `permission` (KeyError for an unknown permission)."""
    return all(_holds(role, p) for p in resolve(permission))


def role_permissions(role: str) -> list[str]:
    """Every permission the built-in `role` holds, sorted."""
    return sorted(p for p in PERMISSIONS if _holds(role, p))


@dataclass(frozen=True)
class Actor:
    """Who acts: the name written on audit trails, the role that decides what they may do (a built-in
    `AccessRole` or a custom role's name), the API token they authenticated with (None for the CLI and the
    system), and a custom role's permissions (None for a built-in role)."""

    name: str
    role: str
    token_id: int | None = None
    grants: frozenset[str] | None = None


SYSTEM = Actor("system", AccessRole.ADMIN)


def cli_actor() -> Actor:
    """The operator at the shell, by name: `cli:$ERPOPS_USER` (default the login name), as `$ERPOPS_ROLE`
    (default admin: whoever can run the CLI can reach the database)."""
    role = os.environ.get("ERPOPS_ROLE") or AccessRole.ADMIN.value
    if role not in AccessRole.__members__.values():
        raise ValidationFailed(f"ERPOPS_ROLE={role!r} is not a built-in role; one of: "
                               f"{', '.join(r.value for r in AccessRole)}")
    return Actor(f"cli:{os.environ.get('ERPOPS_USER') or getpass.getuser()}", AccessRole(role))


def holds(actor: Actor, permission: str) -> bool:
    """Whether `actor` may do `permission` (by its custom role's grants, else its built-in role)."""
    if actor.grants is None:
        return allowed(actor.role, permission)
    return all(p in actor.grants for p in resolve(permission))


def require(actor: Actor, permission: str) -> None:
    """Raise Forbidden (403, exit 1) unless `actor` holds `permission`."""
    if not holds(actor, permission):
        raise Forbidden(f"role '{actor.role}' may not do this (needs {permission})")


def denied_entry(permission: str, what: str, arguments: Mapping[str, Any] | None = None,
                 ref: str | None = None) -> Entry:
    """The audit entry of a refused attempt at `what` (a route: `ref` is its path)."""
    return Entry(permission, what, ref=ref, after=arguments, outcome="denied")


@dataclass(frozen=True)
class Call:
    """A guarded service call, as the audit trail records it when the service records nothing itself."""

    permission: str
    service: str
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    signature: inspect.Signature | None = None

    def arguments(self) -> dict[str, Any]:
        """The call's arguments by name (the unit of work left out)."""
        try:
            if self.signature is not None:
                bound = self.signature.bind_partial(None, *self.args, **self.kwargs).arguments
                return dict(list(bound.items())[1:])
        except TypeError:  # called with arguments the service does not take: record them as given
            pass
        return {**{f"arg{n}": a for n, a in enumerate(self.args)}, **self.kwargs}

    def entry(self, outcome: str = "done") -> Entry:
        """What the service did (or was refused), as far as its arguments say: its first `*_id` argument is the
        entity, a first argument that is text (a name, a code, a period) its reference."""
        found = self.arguments()
        ident = next(((k, v) for k, v in found.items() if k.endswith("_id") and isinstance(v, int)), None)
        entity = ident[0][:-3] if ident else self.service
        first = next(iter(found.values()), None)
        return Entry(self.permission, entity, ident[1] if ident else None, first if isinstance(first, str) else None,
                     after=found, outcome=outcome)


class Acting(Protocol):
    @property
    def actor(self) -> Actor: ...

    def acting(self, call: Call) -> None: ...

    def refused(self, call: Call) -> None: ...


A = TypeVar("A", bound=Acting)
P = ParamSpec("P")
T = TypeVar("T")


def guarded(permission: str) -> Callable[[Callable[Concatenate[A, P], T]], Callable[Concatenate[A, P], T]]:
    """Declare the permission a service needs: it refuses an actor without it before any work (recording the
    denied attempt), and tells the unit of work which action it runs, for the audit trail.

    The permission stays readable on the service (`service.permission`), so the API checks it before
    reading a body, and a test can walk every service.
    """
    resolve(permission)

    def decorate(service: Callable[Concatenate[A, P], T]) -> Callable[Concatenate[A, P], T]:
        signature = inspect.signature(service)

        @wraps(service)
        def run(uow: A, /, *args: P.args, **kwargs: P.kwargs) -> T:
            call = Call(permission, service.__name__, args, kwargs, signature)
            if not holds(uow.actor, permission):
                uow.refused(call)
                require(uow.actor, permission)
            uow.acting(call)
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
DEFAULT_TOKEN_LIFETIME = dt.timedelta(days=90)
# (database URL, token hash) -> (monotonic expiry, actor); only known tokens are cached, so a token
# created a moment ago is never refused from the cache.
_known: dict[tuple[str, str], tuple[float, Actor]] = {}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC


def cached(engine: Engine, token: str) -> Actor | None:
    """The token's actor if the cache still holds it, without touching the database."""
    hit = _known.get((str(engine.url), token_hash(token)))
    return hit[1] if hit is not None and hit[0] > time.monotonic() else None


def lookup(engine: Engine, token: str) -> Actor | None:
    """The live (not revoked, not expired) token's actor, or None; cached for `TOKEN_TTL_S` seconds at most."""
    key = (str(engine.url), token_hash(token))
    hit = _known.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    with engine.connect() as conn:
        row = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.expires_at).where(
            ApiToken.token_hash == key[1], ApiToken.revoked_at.is_(None))).one_or_none()
        left = None if row is None or row.expires_at is None else (
            _utc(row.expires_at) - dt.datetime.now(dt.UTC)).total_seconds()
        if row is None or (left is not None and left <= 0):
            _known.pop(key, None)
            return None
        grants = None if row.role in AccessRole.__members__.values() else frozenset(conn.execute(
            select(RolePermission.permission).where(RolePermission.role == row.role)).scalars())
    actor = Actor(row.name, AccessRole(row.role) if grants is None else row.role, row.id, grants)
    _known[key] = (now + min(TOKEN_TTL_S, left if left is not None else TOKEN_TTL_S), actor)
    if key not in _logged_in:  # a login: the first time this process accepts the token
        _logged_in.add(key)
        audit.record(engine, actor.name, str(actor.role), [Entry("auth.login", "api_token", row.id, row.name)])
    return actor


# (database URL, token hash) of the tokens this process has accepted once: the audit trail's logins, one per
# token and process (a refused, unknown token writes nothing: anyone could send those by the million). Keyed
# by the hash, not the row id: a database rebuilt under the same URL reuses ids for other tokens.
_logged_in: set[tuple[str, str]] = set()


def create_token(erp: HasEngine, role: str, name: str, actor: Actor = SYSTEM,
                 lifetime: dt.timedelta = DEFAULT_TOKEN_LIFETIME) -> str:
    """Create a token for `role` (built-in or custom) as `actor` (an admin), expiring after `lifetime`;
    returns the token, which is stored only as its sha256 (and never written to the audit trail or a log)."""
    require(actor, "admin.tokens")
    if not name.strip():
        raise ValidationFailed("a token needs a name")
    if lifetime <= dt.timedelta(0):
        raise ValidationFailed("a token's lifetime must be positive")
    token = "erp_" + secrets.token_urlsafe(32)
    now = dt.datetime.now(dt.UTC)
    with erp.engine.begin() as conn:
        if role not in AccessRole.__members__.values() and conn.execute(
                select(Role.name).where(Role.name == role)).first() is None:
            raise ValidationFailed(f"unknown role {role!r}; one of: {', '.join(r.value for r in AccessRole)} "
                                   "or a custom role (`erpops roles list`)")
        expires = now + lifetime
        token_id = conn.execute(insert(ApiToken).values(
            name=name, role=role, token_hash=token_hash(token), created_at=now, expires_at=expires,
        ).returning(ApiToken.id)).scalar_one()
        audit.append(conn, actor.name, actor.role, [Entry("admin.tokens", "api_token", token_id, name, None, {
            "name": name, "role": role, "expires_at": expires})])
    return token


def list_tokens(erp: HasEngine) -> list[dict[str, object]]:
    """Every token as rows (never the token or its hash)."""
    with erp.engine.connect() as conn:
        rows = conn.execute(select(ApiToken.id, ApiToken.name, ApiToken.role, ApiToken.created_at,
                                   ApiToken.expires_at, ApiToken.revoked_at).order_by(ApiToken.id)).mappings().all()
    return [dict(r) for r in rows]


def revoke_token(erp: HasEngine, token_id: int, actor: Actor = SYSTEM) -> None:
    """Revoke a token as `actor` (an admin): at once in this process, within `TOKEN_TTL_S` in others (see the
    module docstring)."""
    require(actor, "admin.tokens")
    now = dt.datetime.now(dt.UTC)
    with erp.engine.begin() as conn:
        done = conn.execute(update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
                            .values(revoked_at=now).returning(ApiToken.name)).scalar_one_or_none()
        if done is not None:
            audit.append(conn, actor.name, actor.role, [Entry("admin.tokens", "api_token", token_id, done,
                                                              {"revoked_at": None}, {"revoked_at": now})])
    for key, (_, known) in list(_known.items()):
        if known.token_id == token_id:
            _known.pop(key, None)
    if done is None:
        raise NotFound(f"token {token_id} does not exist or is already revoked")
