"""Small SQL helpers the services share: dialect-neutral upserts, row locks, statements prepared once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row, namedtuple_row
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Executable,
    Select,
    bindparam,
    func,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import DBAPIError, MultipleResultsFound, NoResultFound
from sqlalchemy.orm import InstrumentedAttribute, Session


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


S = TypeVar("S", bound="Select[*tuple[Any, ...]]")


def locked(stmt: S) -> S:
    """SELECT ... FOR UPDATE: PostgreSQL locks the rows; SQLite already holds the database write lock."""
    return stmt.with_for_update()


_CURSOR = "erpops_query_cursor"


class Query:
    """A statement built once, at import, and run many times with bound parameters.

    On PostgreSQL its SQL is compiled once and sent on the transaction's own psycopg cursor: building the
    statement, finding it in SQLAlchemy's cache and wrapping its result took about 40% of a posting
    request's CPU under py-spy. SQLite runs it through SQLAlchemy. `postgresql` is an optional variant for
    that dialect (an array where the other has an expanding IN list). A statement SQLAlchemy would have to
    rewrite per call (expanding IN, Python-side defaults) is refused when first compiled.
    Engine listeners (the monitor's query timer) still see every execution.
    """

    __slots__ = ("_compiled", "keys", "postgresql", "stmt")

    def __init__(self, stmt: Executable, postgresql: Executable | None = None, keys: Sequence[str] = ()) -> None:
        self.stmt = stmt
        self.postgresql = postgresql if postgresql is not None else stmt
        self.keys = tuple(keys)  # parameters that must not repeat across the rows of `many`
        self._compiled: tuple[str, dict[str, Any], dict[str, Any]] | None = None

    def rows(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row, with attribute access by column name (`row.id`)."""
        rows: list[Any] = self._run(conn, params, namedtuple_row, fetch=True)
        return rows

    def dicts(self, conn: Connection, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        """Every row as a dict of column name to value."""
        rows: list[dict[str, Any]] = self._run(conn, params, dict_row, fetch=True)
        return rows

    def one(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.rows(conn, params)
        if len(rows) != 1:
            raise NoResultFound("no row was found") if not rows else MultipleResultsFound("more than one row")
        return rows[0]

    def one_or_none(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        rows = self.rows(conn, params)
        if len(rows) > 1:
            raise MultipleResultsFound("more than one row")
        return rows[0] if rows else None

    def scalar(self, conn: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None when there is no row."""
        rows = self.rows(conn, params)
        return rows[0][0] if rows else None

    def execute(self, conn: Connection, params: Mapping[str, Any] | None = None) -> int:
        """Run a statement that returns no rows; returns the number of rows it changed."""
        return int(self._run(conn, params, None, fetch=False))

    def many(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run once per row (an executemany); PostgreSQL's variant of a `batch_update` takes all rows at once."""
        if not rows:
            return
        if self.keys and len({tuple(r[k] for k in self.keys) for r in rows}) != len(rows):
            # one UPDATE ... FROM changes a row once however many batch rows match it: sum repeats first
            raise ValueError(f"rows repeat a key ({', '.join(self.keys)}): {list(rows)[:5]}")
        if conn.dialect.name != "postgresql" or self.postgresql is self.stmt:
            conn.execute(self.stmt, [dict(r) for r in rows])
            return
        self._run(conn, {name: [r[name] for r in rows] for name in rows[0]}, None, fetch=False)

    def many_returning(self, conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """`many` for a `batch_insert(..., returning=True)`: the rows written, in no promised order."""
        if not rows:
            return []
        if conn.dialect.name != "postgresql":
            return [dict(r) for r in conn.execute(self.stmt, [dict(r) for r in rows]).mappings()]
        written: list[dict[str, Any]] = self._run(conn, {name: [r[name] for r in rows] for name in rows[0]},
                                                  dict_row, fetch=True)
        return written

    def _run(self, conn: Connection, params: Mapping[str, Any] | None, row_factory: Any, fetch: bool) -> Any:
        if conn.dialect.name != "postgresql":
            result = conn.execute(self.stmt, dict(params or {}))
            if not fetch:
                return result.rowcount
            return [dict(r) for r in result.mappings()] if row_factory is dict_row else list(result)
        if not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's autobegin would: its commit and rollback must cover this statement
        sql, defaults, processors = self._compile(conn)
        values = {**defaults, **params} if params else dict(defaults)
        for name, process in processors.items():
            values[name] = process(values[name])
        # One cursor per database connection, kept in its pool record: a new cursor copies the
        # connection's adapters map, which showed in profiles once everything else was gone.
        cursor = conn.info.get(_CURSOR)
        if cursor is None or cursor.closed:
            cursor = conn.info[_CURSOR] = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.row_factory = row_factory or namedtuple_row
        listeners = conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute
        if listeners:
            for fn in conn.dispatch.before_cursor_execute:
                fn(conn, cursor, sql, values, None, False)
        try:
            cursor.execute(sql, values)
        except psycopg.Error as e:
            raise DBAPIError.instance(sql, values, e, psycopg.Error, dialect=conn.dialect) from e
        if listeners:
            for fn in conn.dispatch.after_cursor_execute:
                fn(conn, cursor, sql, values, None, False)
        return cursor.fetchall() if fetch else cursor.rowcount

    def _compile(self, conn: Connection) -> tuple[str, dict[str, Any], dict[str, Any]]:
        if self._compiled is None:
            compiled: Any = self.postgresql.compile(dialect=conn.dialect)  # type: ignore[attr-defined]
            if compiled.positiontup or compiled.post_compile_params or compiled.literal_execute_params \
                    or compiled.insert_prefetch or compiled.update_prefetch:
                raise TypeError(f"statement cannot be prepared once: {compiled.string[:200]}")
            self._compiled = (compiled.string, dict(compiled.params), dict(compiled._bind_processors))
        return self._compiled


def pairs_in(first: ColumnElement[int] | InstrumentedAttribute[int], second: ColumnElement[int] | InstrumentedAttribute[int],
             ) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """`(first, second) IN :keys` for a `Query`: an expanding list of pairs, and PostgreSQL's variant over
    two arrays `:firsts` and `:seconds` (see `pairs_params`) that compiles once whatever the list's length."""
    arrays = select(func.unnest(bindparam("firsts", type_=ARRAY(BigInteger))),
                    func.unnest(bindparam("seconds", type_=ARRAY(BigInteger))))
    return (tuple_(first, second).in_(bindparam("keys", expanding=True)), tuple_(first, second).in_(arrays))


def pairs_params(keys: Sequence[tuple[int, int]]) -> dict[str, Any]:
    """The parameters of both variants of `pairs_in` for `keys`."""
    return {"keys": list(keys), "firsts": [k[0] for k in keys], "seconds": [k[1] for k in keys]}


def batch_update(table: Any, keys: Mapping[str, Any], values: Callable[[Any], Mapping[str, Any]],
                 types: Mapping[str, Any]) -> Query:
    """An UPDATE of many rows for `Query.many`: `keys` maps parameter names to the columns that find a row,
    `values(p)` gives the new column values from `p[name]` (a parameter per row), `types` every parameter's type.

    Elsewhere it runs once per row; on PostgreSQL it is one statement over `unnest` of one array per
    parameter: one round trip and one plan, where psycopg's executemany pipelines a statement per row.
    Rows must not repeat a key (`Query.many` refuses them): the joined UPDATE would change such a row once.
    """
    per_row: dict[str, Any] = {name: bindparam(name) for name in types}
    rows = select(*(func.unnest(bindparam(name, type_=ARRAY(t))).label(name) for name, t in types.items())) \
        .subquery("batch")
    generic = update(table).where(*(col == per_row[name] for name, col in keys.items())).values(values(per_row))
    batched = update(table).where(*(col == rows.c[name] for name, col in keys.items())).values(values(rows.c))
    return Query(generic, postgresql=batched, keys=list(keys))


def batch_insert(table: Any, *names: str, returning: bool = False) -> Query:
    """An INSERT of many rows for `Query.many` (or `many_returning`), one parameter per column of `names`.

    Elsewhere it is an executemany; on PostgreSQL one `INSERT ... SELECT` over `unnest` of one array per
    column, where psycopg would pipeline a statement per row and SQLAlchemy would render its batched
    INSERT ... RETURNING anew on every call. Give every column with a Python-side default (`created_at`)
    explicitly: one statement cannot compute it per row.
    """
    columns = [table.__table__.c[name] for name in names]
    rows = select(*(func.unnest(bindparam(c.name, type_=ARRAY(c.type))).label(c.name) for c in columns))
    generic, batched = insert(table), insert(table).from_select(columns, rows)
    if returning:
        generic = generic.returning(*table.__table__.columns)
        batched = batched.returning(*table.__table__.columns)
    return Query(generic, postgresql=batched)
