"""Small SQL helpers the services share: dialect-neutral upserts and row locks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar, Unpack

from sqlalchemy import Connection, Select, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session | Connection, table: Any, rows: Sequence[dict[str, Any]], keys: list[str]) -> None:
    """INSERT the rows, skipping those whose `keys` already exist (ON CONFLICT DO NOTHING)."""
    if not rows:
        return
    dialect = session.dialect.name if isinstance(session, Connection) else session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    else:  # pragma: no cover - only the two engines are supported
        stmt = insert(table)
    session.execute(stmt, list(rows))


S = TypeVar("S", bound="Select[Unpack[tuple[Any, ...]]]")


def locked(stmt: S) -> S:
    """SELECT ... FOR UPDATE: PostgreSQL locks the rows; SQLite already holds the database write lock."""
    return stmt.with_for_update()
