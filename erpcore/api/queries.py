"""Read-only SQL behind the GET routes: rows as dicts, never ORM objects; lists page by id."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, bindparam, cast, func, select
from sqlalchemy.orm import InstrumentedAttribute

from erpcore.api.deps import ListParams
from erpcore.exceptions import NotFound
from erpcore.models import SalesOrder, SalesOrderLine, StockReservation
from erpcore.services.sql import Query

Source = Engine | Connection  # a Connection reads inside its transaction (a service's, before it commits)


@contextmanager
def _connected(source: Source) -> Iterator[Connection]:
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as conn:
        yield conn


def one(source: Source, model: Any, doc_id: int, what: str) -> dict[str, Any]:
    """The row of `model` with `doc_id`, or NotFound naming `what`."""
    with _connected(source) as conn:
        return _head(conn, model, doc_id, what)


_HEADS: dict[Any, Query] = {}  # per model: its row by id, built on first use


def _head(conn: Connection, model: Any, doc_id: int, what: str) -> dict[str, Any]:
    head = _HEADS.get(model)
    if head is None:
        head = _HEADS[model] = Query(select(*model.__table__.columns).where(model.id == bindparam("id")))
    rows = head.dicts(conn, {"id": doc_id})
    if not rows:
        raise NotFound(f"{what} {doc_id} does not exist")
    return rows[0]


def document(source: Source, model: Any, line_model: Any, parent: InstrumentedAttribute[int], doc_id: int,
             what: str) -> dict[str, Any]:
    """A document with its lines (in id order), read on one connection."""
    stmt = select(*line_model.__table__.columns).where(parent == doc_id).order_by(line_model.id)
    with _connected(source) as conn:
        head = _head(conn, model, doc_id, what)
        return {**head, "lines": [dict(r) for r in conn.execute(stmt).mappings()]}


SALES_ORDER_LINES = Query(
    select(*SalesOrderLine.__table__.columns,  # a typed 0: '0.0000' like every other quantity, on both engines
           func.coalesce(StockReservation.quantity, cast(0, StockReservation.quantity.type)).label("qty_reserved"))
    .outerjoin(StockReservation, StockReservation.sales_order_line_id == SalesOrderLine.id)
    .where(SalesOrderLine.sales_order_id == bindparam("order_id")).order_by(SalesOrderLine.line_no))


def sales_order(source: Source, order_id: int) -> dict[str, Any]:
    """A sales order with its lines and their open reserved quantities."""
    with _connected(source) as conn:
        head = _head(conn, SalesOrder, order_id, "sales order")
        return {**head, "lines": SALES_ORDER_LINES.dicts(conn, {"order_id": order_id})}


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
