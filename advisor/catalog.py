"""What PostgreSQL's catalog says about the tables and indexes the advisor reasons over.

Tables are named as `regclass` prints them: bare when the search path finds them, schema-qualified otherwise,
which is also how the statements of the workload name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Key = tuple[str, bool]  # (column or expression, descending)


@dataclass(frozen=True)
class ExistingIndex:
    """One index as the catalog has it, with its scans since the statistics were reset."""

    name: str
    table: str
    keys: tuple[Key, ...]
    include: tuple[str, ...]
    unique: bool
    primary: bool
    valid: bool
    partial: bool
    method: str
    size_bytes: int
    scans: int
    definition: str
    constraint: str | None  # the constraint it enforces (p, u, x), if any
    expressions: bool = False

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.keys)


@dataclass
class TableInfo:
    """A table's size, its columns and how much it is written."""

    name: str
    rows: float
    pages: int
    columns: set[str]
    writes: int  # rows inserted, updated and deleted since the statistics were reset
    foreign_keys: list[tuple[str, ...]] = field(default_factory=list)


@dataclass
class Catalog:
    tables: dict[str, TableInfo]
    indexes: list[ExistingIndex]
    stats_reset: str | None

    def columns_of(self, table: str) -> set[str] | None:
        info = self.tables.get(table)
        return info.columns if info is not None else None

    def canonical(self, table: str) -> str:
        """The catalog's name of a table as a statement wrote it (`public.t` is `t` on the search path)."""
        if table in self.tables or "." not in table:
            return table
        bare = table.rsplit(".", 1)[1]
        return bare if bare in self.tables else table

    def indexes_on(self, table: str) -> list[ExistingIndex]:
        return [i for i in self.indexes if i.table == table]


TABLES = """
SELECT c.oid::regclass::text, c.reltuples, c.relpages,
       array_agg(a.attname::text ORDER BY a.attnum),
       coalesce(s.n_tup_ins + s.n_tup_upd + s.n_tup_del, 0)
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'
GROUP BY c.oid, c.reltuples, c.relpages, s.n_tup_ins, s.n_tup_upd, s.n_tup_del
"""

FOREIGN_KEYS = """
SELECT con.conrelid::regclass::text,
       array(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(num, pos)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.pos)
FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
WHERE con.contype = 'f' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
"""

INDEXES = """
SELECT ic.relname::text, x.indrelid::regclass::text, x.indnkeyatts, x.indnatts,
       array(SELECT CASE WHEN k.attnum = 0 THEN pg_get_indexdef(x.indexrelid, k.pos::int, true)
                         ELSE (SELECT attname::text FROM pg_attribute
                               WHERE attrelid = x.indrelid AND attnum = k.attnum) END
             FROM unnest(x.indkey::int2[]) WITH ORDINALITY k(attnum, pos) ORDER BY k.pos),
       array(SELECT (o.opt & 1) = 1 FROM unnest(x.indoption::int2[]) WITH ORDINALITY o(opt, pos) ORDER BY o.pos),
       x.indisunique, x.indisprimary, x.indisvalid AND x.indisready, x.indpred IS NOT NULL, am.amname::text,
       coalesce(pg_relation_size(x.indexrelid), 0), coalesce(s.idx_scan, 0), pg_get_indexdef(x.indexrelid),
       con.contype::text, x.indexprs IS NOT NULL
FROM pg_index x
JOIN pg_class ic ON ic.oid = x.indexrelid
JOIN pg_class tc ON tc.oid = x.indrelid
JOIN pg_namespace n ON n.oid = tc.relnamespace
JOIN pg_am am ON am.oid = ic.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = x.indexrelid
LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u', 'x')
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%%'
ORDER BY 2, 1
"""


def read_catalog(conn: Any, attempts: int = 3) -> Catalog:
    """Tables, their columns and foreign keys, and every index of the connected database; read again (at most
    `attempts` times) when a relation is dropped while it is being read."""
    import psycopg

    for attempt in range(attempts):
        try:
            return _read_catalog(conn)
        except (psycopg.errors.InternalError_, psycopg.errors.UndefinedTable, psycopg.errors.UndefinedObject):
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def _read_catalog(conn: Any) -> Catalog:
    tables = {name: TableInfo(name, float(rows), int(pages), set(cols), int(writes))
              for name, rows, pages, cols, writes in conn.execute(TABLES).fetchall()}
    for table, cols in conn.execute(FOREIGN_KEYS).fetchall():
        if table in tables:
            tables[table].foreign_keys.append(tuple(cols))
    indexes = [_index(row) for row in conn.execute(INDEXES).fetchall()]
    reset = conn.execute("SELECT stats_reset::text FROM pg_stat_database "
                         "WHERE datname = current_database()").fetchone()
    return Catalog(tables, indexes, reset[0] if reset else None)


def _index(row: tuple[Any, ...]) -> ExistingIndex:
    (name, table, nkey, _natts, cols, desc, unique, primary, valid, partial, method, size, scans, definition,
     contype, exprs) = row
    keys = tuple((str(c), bool(d)) for c, d in zip(cols[:nkey], list(desc) + [False] * nkey, strict=False))
    return ExistingIndex(name, table, keys, tuple(str(c) for c in cols[nkey:]), bool(unique), bool(primary),
                         bool(valid), bool(partial), method, int(size or 0), int(scans or 0), definition or "",
                         contype, bool(exprs))
