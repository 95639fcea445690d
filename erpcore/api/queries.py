"""Read-only SQL behind the GET routes: rows as dicts, never ORM objects; lists page by id."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, Select, func, select
from sqlalchemy.orm import InstrumentedAttribute

from erpcore.api.deps import ListParams
from erpcore.exceptions import NotFound
from erpcore.models import SalesOrderLine, StockReservation


def one(engine: Engine, model: Any, doc_id: int, what: str) -> dict[str, Any]:
    """The row of `model` with `doc_id`, or NotFound naming `what`."""
    with engine.connect() as conn:
        row = conn.execute(select(*model.__table__.columns).where(model.id == doc_id)).mappings().one_or_none()
    if row is None:
        raise NotFound(f"{what} {doc_id} does not exist")
    return dict(row)


def lines(engine: Engine, line_model: Any, parent: InstrumentedAttribute[int], doc_id: int) -> list[dict[str, Any]]:
    """The lines of one document, in id order."""
    with engine.connect() as conn:
        stmt = select(*line_model.__table__.columns).where(parent == doc_id).order_by(line_model.id)
        return [dict(r) for r in conn.execute(stmt).mappings()]


def document(engine: Engine, model: Any, line_model: Any, parent: InstrumentedAttribute[int], doc_id: int,
             what: str) -> dict[str, Any]:
    """A document with its lines."""
    head = one(engine, model, doc_id, what)
    return {**head, "lines": lines(engine, line_model, parent, doc_id)}


def sales_order_lines(engine: Engine, order_id: int) -> list[dict[str, Any]]:
    """Sales order lines with their open reserved quantity."""
    stmt = (select(*SalesOrderLine.__table__.columns,
                   func.coalesce(StockReservation.quantity, 0).label("qty_reserved"))
            .outerjoin(StockReservation, StockReservation.sales_order_line_id == SalesOrderLine.id)
            .where(SalesOrderLine.sales_order_id == order_id).order_by(SalesOrderLine.line_no))
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]


def listing(engine: Engine, model: Any, params: ListParams, date_column: InstrumentedAttribute[Any] | None,
            **equals: object) -> list[dict[str, Any]]:
    """One page (plus one row, to tell whether more exist) of `model`, filtered and ordered by id."""
    stmt: Select[Any] = select(*model.__table__.columns)
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
