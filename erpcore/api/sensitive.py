"""Sensitive fields in responses: opened from their sealed form, then shown plain only to roles allowed to.

Employees' salary, bank account and tax id need `hr.employee.reveal`; partners' tax ids `partners.tax_id.reveal`.
Everyone else sees them masked (`****1234`).
"""

from __future__ import annotations

from typing import Any

from erpcore import access
from erpcore.access import Actor
from erpcore.crypto import Keyring, mask


def employee(row: dict[str, Any], actor: Actor) -> dict[str, Any]:
    """An employee (fields already opened) as `actor` may see it."""
    if access.allowed(actor.role, "hr.employee.reveal"):
        return {**row, "salary": str(row["salary"])}
    return {**row, "salary": "****", "bank_account": mask(row["bank_account"]), "tax_id": mask(row["tax_id"])}


def party(row: dict[str, Any], actor: Actor, keys: Keyring | None, table: str) -> dict[str, Any]:
    """A customer or supplier as `actor` may see it; `keys` opens a stored row (None: the tax id is plain)."""
    tax_id = row.get("tax_id")
    if keys is not None:
        tax_id = keys.open(tax_id, f"{table}.tax_id")
    shown = tax_id if access.allowed(actor.role, "partners.tax_id.reveal") else mask(tax_id)
    return {**row, "tax_id": shown}


def parties(rows: dict[str, Any], actor: Actor, keys: Keyring, table: str) -> dict[str, Any]:
    """A page of customers or suppliers as `actor` may see them."""
    return {**rows, "items": [party(r, actor, keys, table) for r in rows["items"]]}
