"""Lists behind the GET routes: rows as dicts, never ORM objects, paged by id (documents: `services.views`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, select
from sqlalchemy.orm import InstrumentedAttribute

from erpcore.api.deps import ListParams


def listing(engine: Engine, model: Any, params: ListParams, date_column: InstrumentedAttribute[Any] | None,
            where: Sequence[ColumnElement[bool]] = (), **equals: object) -> list[dict[str, Any]]:
    """One page (plus one row, to tell whether more exist) of `model`, filtered and ordered by id."""
    stmt: Select[Any] = select(*model.__table__.columns).where(*where)
    for name, value in equals.items():
        if value is not None:
            stmt = stmt.where(getattr(model, name) == value)
    if params.status is not None and hasattr(model, "status"):
        stmt = stmt.where(model.status == params.status)
    if date_column is not None and params.date_from is not None:
        stmt = stmt.where(date_column >= params.date_from)
    if date_column is not None and params.date_to is not None:
        stmt = stmt.where(date_column <= params.date_to)
    if params.after is not None:
        stmt = stmt.where(model.id > params.after)
    stmt = stmt.order_by(model.id).offset(params.offset).limit(params.limit + 1)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
