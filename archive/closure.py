"""Closures from foreign keys: which rows move with a document, and which rows outside still point at it.

A table joins a family's closure when one of its NOT NULL foreign keys points into the closure (a line
cannot exist without its order); a nullable foreign key is a reference, not ownership. Every other
foreign key that points into the closure is an inbound reference: when the referencing row does not move
in the same batch, the document it points at is skipped, with the referencing row as the reason.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    MetaData,
    Table,
    any_,
    bindparam,
    select,
)

from archive.families import Family

CHUNK = 2000


@dataclass(frozen=True)
class Edge:
    """A foreign key: `child.column` references `parent.parent_column`."""

    child: str
    column: str
    parent: str
    parent_column: str


@dataclass(frozen=True)
class Closure:
    """The tables of one family, parents first, with the edge that brings each table in."""

    family: Family
    tables: tuple[str, ...]
    owning: Mapping[str, Edge]
    inbound: tuple[Edge, ...]

    @property
    def root(self) -> str:
        return self.family.root


def _edges(metadata: MetaData, present: Collection[str]) -> list[Edge]:
    out = []
    for table in metadata.sorted_tables:
        if table.name not in present:
            continue
        for fk in sorted(table.foreign_keys, key=lambda f: f.parent.name):
            parent = fk.column.table.name
            if parent in present:
                out.append(Edge(table.name, fk.parent.name, parent, fk.column.name))
    return out


def derive(metadata: MetaData, family: Family, present: Collection[str], other_roots: Collection[str]) -> Closure:
    """The closure of `family` in the tables that exist (`present`), stopping at other families' roots."""
    edges = _edges(metadata, present)
    nullable = {(t.name, c.name) for t in metadata.tables.values() for c in t.columns if c.nullable}
    members, owning = [family.root], {}
    grew = True
    while grew:
        grew = False
        for edge in edges:
            joins = edge.parent in members and edge.child not in members and edge.child not in other_roots
            if joins and (edge.child, edge.column) not in nullable:
                members.append(edge.child)
                owning[edge.child] = edge
                grew = True
    order = [t.name for t in metadata.sorted_tables if t.name in members]
    inbound = tuple(e for e in edges if e.parent in members and owning.get(e.child) != e)
    return Closure(family, tuple(order), owning, inbound)


def chunks(values: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start:start + size]


def among(conn: Connection, column: ColumnElement[Any], values: Sequence[Any]) -> Iterator[ColumnElement[bool]]:
    """`column IN values` as conditions to run one after another: on PostgreSQL one `= ANY(array)` (one
    parameter, one cached statement whatever the count), on SQLite chunks within its parameter limit."""
    if conn.dialect.name == "postgresql":
        if values:
            yield column == any_(bindparam(None, list(values), type_=ARRAY(column.type)))
        return
    for part in chunks(values):
        yield column.in_(part)


@dataclass
class ClosureRows:
    """The rows of a set of roots' closures, per table, each attributed to its root."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    root_of: dict[str, dict[Any, Any]] = field(default_factory=dict)
    pks: dict[str, str] = field(default_factory=dict)

    def ids(self, table: str) -> list[Any]:
        return list(self.root_of.get(table, {}))

    def for_roots(self, roots: Collection[Any]) -> ClosureRows:
        keep = set(roots)
        out = ClosureRows()
        out.pks = dict(self.pks)
        for table, rows in self.rows.items():
            pk = self.pks[table]
            out.rows[table] = [r for r in rows if self.root_of[table][r[pk]] in keep]
            out.root_of[table] = {k: v for k, v in self.root_of[table].items() if v in keep}
        return out

    @property
    def row_count(self) -> int:
        return sum(len(r) for r in self.rows.values())


def pk_column(table: Table) -> str:
    keys = list(table.primary_key.columns)
    if len(keys) != 1:
        from erpcore.exceptions import ConfigError

        raise ConfigError(f"table {table.name} has no single-column primary key; it cannot be archived")
    return keys[0].name


def collect(conn: Connection, closure: Closure, tables: Mapping[str, Table], roots: Sequence[dict[str, Any]],
            lock: bool = False) -> ClosureRows:
    """Read the closures of the given root rows, table by table, parents first (locked FOR UPDATE on
    PostgreSQL when `lock`, so that no business write changes a row between its copy and its delete)."""
    out = ClosureRows()
    root_table = tables[closure.root]
    root_pk = pk_column(root_table)
    out.rows[closure.root] = list(roots)
    out.root_of[closure.root] = {r[root_pk]: r[root_pk] for r in roots}
    out.pks[closure.root] = root_pk
    for name in closure.tables[1:]:
        edge = closure.owning[name]
        table = tables[name]
        pk = out.pks[name] = pk_column(table)
        parent_root = out.root_of[edge.parent]
        rows: list[dict[str, Any]] = []
        for condition in among(conn, table.c[edge.column], list(parent_root)):
            stmt = select(table).where(condition).order_by(table.c[pk])
            if lock and conn.dialect.name == "postgresql":
                stmt = stmt.with_for_update()
            rows.extend(dict(r._mapping) for r in conn.execute(stmt))
        out.rows[name] = rows
        out.root_of[name] = {r[pk]: parent_root[r[edge.column]] for r in rows}
    return out


def inbound_blockers(conn: Connection, closure: Closure, tables: Mapping[str, Table], found: ClosureRows
                     ) -> dict[Any, str]:
    """Per root: the first row outside the moving set that still references a row of its closure."""
    blocked: dict[Any, str] = {}
    for edge in closure.inbound:
        targets = found.root_of.get(edge.parent, {})
        if not targets:
            continue
        child = tables[edge.child]
        pk = pk_column(child)
        moving = found.root_of.get(edge.child, {})
        for condition in among(conn, child.c[edge.column], list(targets)):
            stmt = select(child.c[pk], child.c[edge.column]).where(condition)
            for key, ref in conn.execute(stmt):
                root = targets[ref]
                if key not in moving and root not in blocked:
                    blocked[root] = f"referenced by {edge.child} {key} ({edge.column})"
    return blocked


def date_column(table: Table) -> str | None:
    """The column that dates a document: its indexed DATE column, else `created_at`."""
    for column in table.columns:
        if isinstance(column.type, Date) and not isinstance(column.type, DateTime) and column.index:
            return column.name
    return "created_at" if "created_at" in table.columns else None


def document_date(family: Family, table: Table) -> str | None:
    """The column that dates a family's document: the family's own choice for its root, else `date_column`."""
    if table.name == family.root and family.dated_by:
        return family.dated_by
    return date_column(table)


def closing_columns(family: Family, table: Table) -> tuple[str, ...]:
    """The date columns whose latest value is when a row of `table` closed, for the family's closing date."""
    first = document_date(family, table)
    return tuple(c for c in (first, *family.closing_dates.get(table.name, ())) if c)


def present_tables(conn: Connection, names: Iterable[str]) -> set[str]:
    from sqlalchemy import inspect

    existing = set(inspect(conn).get_table_names())
    return {n for n in names if n in existing}


def unindexed_references(conn: Connection, closures: Iterable[Closure]) -> list[str]:
    """Foreign keys into archived tables whose column has no index: each deleted parent row then makes the
    database scan the whole referencing table (the archive's, and any delete's, slowest path)."""
    from sqlalchemy import inspect

    inspector = inspect(conn)
    indexed: dict[str, set[str]] = {}
    out = []
    for closure in closures:
        for edge in [*closure.owning.values(), *closure.inbound]:
            if edge.child not in indexed:
                firsts: set[object] = {ix["column_names"][0] for ix in inspector.get_indexes(edge.child) if ix["column_names"]}
                firsts |= {uq["column_names"][0] for uq in inspector.get_unique_constraints(edge.child)
                           if uq["column_names"]}
                pk = inspector.get_pk_constraint(edge.child)["constrained_columns"]
                indexed[edge.child] = {str(c) for c in firsts | set(pk[:1])}
            name = f"{edge.child}.{edge.column}"
            if edge.column not in indexed[edge.child] and name not in out:
                out.append(name)
    return out
