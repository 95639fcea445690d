"""Roles: the built-in jobs of `erpcore.access` and the custom roles kept in data (`role`, `role_permission`).

Creating, granting and revoking are guarded services (`admin.roles`) on the audit trail like any other write.
A token of a custom role carries the role's permissions as they were when the token was last looked up, so a
grant or a revoke reaches every server process within `access.TOKEN_TTL_S`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select

from erpcore import access
from erpcore.access import AccessRole, guarded
from erpcore.exceptions import Conflict, NotFound, ValidationFailed
from erpcore.models import Role, RolePermission
from erpcore.services.documents import Doc
from erpcore.services.unit_of_work import UnitOfWork

NAME = re.compile(r"^[a-z][a-z0-9_]{1,23}$")


def _builtin(name: str) -> bool:
    return name in AccessRole.__members__.values()


def _permissions(conn: Connection, name: str) -> list[str]:
    return sorted(conn.execute(select(RolePermission.permission).where(RolePermission.role == name)).scalars())


def _checked(permissions: Iterable[str]) -> list[str]:
    wanted = sorted(set(permissions))
    unknown = [p for p in wanted if p not in access.PERMISSIONS]
    if unknown:
        raise ValidationFailed(f"unknown permission(s): {', '.join(unknown)}; see `erpops roles show admin`")
    if not wanted:
        raise ValidationFailed("name at least one permission")
    return wanted


def _custom(conn: Connection, name: str) -> dict[str, Any]:
    if _builtin(name):
        raise ValidationFailed(f"{name!r} is a built-in role: its permissions are code (erpcore.access)")
    row = conn.execute(select(Role.name, Role.description).where(Role.name == name)).mappings().one_or_none()
    if row is None:
        raise NotFound(f"role {name!r} does not exist (see `erpops roles list`)")
    return dict(row)


def list_roles(conn: Connection) -> list[dict[str, Any]]:
    """Every role: the built-in ones, then the custom ones, with how many permissions each holds."""
    rows: list[dict[str, Any]] = [{"name": r.value, "builtin": True, "description": "",
                                   "permissions": len(access.role_permissions(r))} for r in AccessRole]
    counts = (select(Role.name, Role.description, func.count(RolePermission.permission).label("n"))
              .outerjoin(RolePermission, RolePermission.role == Role.name).group_by(Role.name, Role.description)
              .order_by(Role.name))
    rows += [{"name": r.name, "builtin": False, "description": r.description, "permissions": int(r.n)}
             for r in conn.execute(counts)]
    return rows


def show_role(conn: Connection, name: str) -> dict[str, Any]:
    """A role and every permission it holds."""
    if _builtin(name):
        return {"name": name, "builtin": True, "description": "", "permissions": access.role_permissions(name)}
    return _custom(conn, name) | {"builtin": False, "permissions": _permissions(conn, name)}


@guarded("admin.roles")
def create_role(uow: UnitOfWork, name: str, permissions: Iterable[str], description: str = "") -> Doc:
    """Create a custom role holding `permissions` (a role's name cannot be a built-in one's)."""
    if not NAME.match(name):
        raise ValidationFailed(f"role name {name!r}: 2-24 characters, lowercase letters, digits and _")
    if _builtin(name):
        raise Conflict(f"{name!r} is a built-in role")
    wanted = _checked(permissions)
    with uow:
        if uow.conn.execute(select(Role.name).where(Role.name == name)).first() is not None:
            raise Conflict(f"role {name!r} already exists")
        uow.conn.execute(insert(Role).values(name=name, description=description[:200]))
        uow.conn.execute(insert(RolePermission), [{"role": name, "permission": p} for p in wanted])
        row = {"name": name, "description": description[:200], "permissions": wanted}
        uow.audit("role", None, name, None, row)
        uow.commit()
    return Doc(0, row)


@guarded("admin.roles")
def grant(uow: UnitOfWork, name: str, permissions: Iterable[str]) -> Doc:
    """Add `permissions` to the custom role `name`."""
    wanted = _checked(permissions)
    with uow:
        row = _custom(uow.conn, name)
        before = _permissions(uow.conn, name)
        new = [p for p in wanted if p not in before]
        if new:
            uow.conn.execute(insert(RolePermission), [{"role": name, "permission": p} for p in new])
        after = sorted({*before, *new})
        uow.audit("role", None, name, {"permissions": before}, {"permissions": after})
        uow.commit()
    return Doc(0, row | {"permissions": after})


@guarded("admin.roles")
def revoke(uow: UnitOfWork, name: str, permissions: Iterable[str]) -> Doc:
    """Take `permissions` from the custom role `name`."""
    wanted = _checked(permissions)
    with uow:
        row = _custom(uow.conn, name)
        before = _permissions(uow.conn, name)
        uow.conn.execute(delete(RolePermission).where(RolePermission.role == name,
                                                      RolePermission.permission.in_(wanted)))
        after = [p for p in before if p not in wanted]
        uow.audit("role", None, name, {"permissions": before}, {"permissions": after})
        uow.commit()
    return Doc(0, row | {"permissions": after})
