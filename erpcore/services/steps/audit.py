"""The audit step: append what the unit of work recorded to the audit trail, in its transaction, before commit.

A service records its entries with `uow.audit(...)` (entity, reference, values before and after); a guarded
service that recorded none gets one entry from its call (`access.Call.entry`: the permission, its first `*_id`
argument and its arguments), so every guarded write is on the trail.
"""

from __future__ import annotations

from erpcore import audit
from erpcore.services.unit_of_work import UnitOfWork


def write(uow: UnitOfWork) -> None:
    """Pre-commit step: append the transaction's audit entries to their chain (nothing for an unguarded write
    that recorded nothing)."""
    entries = list(uow.audits) or ([uow.call.entry()] if uow.call is not None else [])
    if entries:
        audit.append(uow.conn, uow.actor.name, uow.actor.role, entries)
    uow.audits.clear()
