"""A window judged inside PostgreSQL: `archive.candidates.scan`'s decisions from per-root facts.

The roots are locked and read as `scan` reads them; their closures are walked by the server along the
owning foreign keys (one CTE per table, each row tagged with its root), which returns only facts per root
and table: rows and latest date, the first row still open, the first row outside the window's closures
that references one of them, and (ledger rows) a source document still in production. `candidates.decide` then judges exactly as it does for `scan`. The same
walk, restricted to the movable roots, is what `archive.serverside` deletes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table

from archive.candidates import (
    Facts,
    Limits,
    Skip,
    as_date,
    decide,
    label,
    links,
    pull_linked,
    root_query,
    settle,
)
from archive.closure import Closure, Edge, closing_columns, pk_column
from archive.sqlhash import quote_ident as q


@dataclass
class ServerWindow:
    """A judged window: its movable roots and how many rows of each table their closures hold."""

    last_key: Any | None  # None: the family has no candidates left after the previous key
    scanned: int = 0
    movable: list[Any] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


def walk(closure: Closure, tables: Mapping[str, Table], facts: bool) -> list[str]:
    """CTEs `x0..xn` (closure order) of the closure rows of the roots in `%(roots)s`: `id`, and with `facts`
    also `root`, `status`, `day` (the row's date) and `label` (its number, else table and key)."""
    out = []
    for k, name in enumerate(closure.tables):
        table = tables[name]
        pk = q(pk_column(table))
        if k == 0:
            out.append("x0 AS (SELECT id, id AS root FROM unnest(%(roots)s::bigint[]) AS id)")
            continue
        edge = closure.owning[name]
        parent = f"x{closure.tables.index(edge.parent)}"
        if not facts:
            out.append(f"x{k} AS (SELECT t.{pk} AS id FROM {q(name)} t WHERE t.{q(edge.column)} IN "
                       f"(SELECT id FROM {parent}))")
            continue
        days = [f"t.{q(c)}::date" for c in closing_columns(closure.family, table)]
        day = days[0] if len(days) == 1 else f"GREATEST({', '.join(days)})" if days else "NULL::date"
        status = "t.status" if "status" in table.c else "NULL::text"
        number = "NULLIF(t.number, '')" if "number" in table.c else "NULL"
        out.append(f"x{k} AS (SELECT t.{pk} AS id, p.root, {status} AS status, "
                   f"{day} AS day, "
                   f"COALESCE({number}, '{name} ' || t.{pk}) AS label "
                   f"FROM {q(name)} t JOIN {parent} p ON t.{q(edge.column)} = p.id)")
    return out


def _fact_queries(closure: Closure, tables: Mapping[str, Table]) -> list[str]:
    parts = []
    for k, name in enumerate(closure.tables[1:], start=1):
        parts.append(f"SELECT 'rows', {k}, root, NULL, max(day), count(*) FROM x{k} GROUP BY root")
        closed = closure.family.closed.get(name)
        if closed:
            statuses = ", ".join(f"'{s}'" for s in closed)
            parts.append(f"SELECT * FROM (SELECT DISTINCT ON (root) 'open', {k}, root, label || ' is ' || "
                         f"COALESCE(status, 'None'), NULL::date, 0::bigint FROM x{k} WHERE status IS NULL OR "
                         f"status NOT IN ({statuses}) ORDER BY root, id) o{k}")
    for e, edge in enumerate(closure.inbound):
        parts.append(f"SELECT * FROM (SELECT DISTINCT ON (p.root) 'referenced', {e}, p.root, 'referenced by "
                     f"{edge.child} ' || c.id || ' ({edge.column})', NULL::date, 0::bigint "
                     f"FROM {referencing(closure, tables, edge)} ORDER BY p.root, c.id) r{e}")
    return parts


def referencing(closure: Closure, tables: Mapping[str, Table], edge: Edge) -> str:
    """`p` the window's rows of `edge.parent` (CTE x<k>) and `c.id` each row of `edge.child` outside the window's
    closures that references one: the child probed per parent row through its foreign key's index. (A join
    lets the planner scan a small child table once and compare every pair: 165,000 comparisons, 12 ms of a
    30 ms judge, for a 118-row table against 1,449 window rows.)"""
    pk = q(pk_column(tables[edge.child]))
    outside = (f" AND c.{pk} NOT IN (SELECT id FROM x{closure.tables.index(edge.child)})"  # a hashed subplan
               if edge.child in closure.tables else "")
    return (f"x{closure.tables.index(edge.parent)} p CROSS JOIN LATERAL (SELECT c.{pk} AS id FROM {q(edge.child)} c "
            f"WHERE c.{q(edge.column)} = p.id{outside} OFFSET 0) c")


def judge_in_server(conn: Connection, closure: Closure, tables: Mapping[str, Table], limits: Limits, after: Any,
                    limit: int) -> ServerWindow:
    """Lock the next window of roots after key `after` (skipping locked ones) and judge it in the server."""
    root = tables[closure.root]
    pk = pk_column(root)
    wanted = {pk, "status", "number", *closing_columns(closure.family, root), *(closure.family.source_link or ()),
              *(e.column for e in links(closure))}
    stmt = root_query(closure, root, limits.until, after, limit)
    stmt = stmt.with_only_columns(*[c for c in root.columns if c.name in wanted]).with_for_update(skip_locked=True)
    roots = [dict(r._mapping) for r in conn.execute(stmt)]
    if not roots:
        return ServerWindow(last_key=None)
    pulled = pull_linked(conn, closure, root, limits, roots, lock=True)
    facts, counts, sources = _facts(conn, closure, tables, roots + pulled, pk)
    labels = {r[pk]: label(r, closure.root, pk) for r in roots + pulled}
    movable, skipped, scanned = settle(conn, closure, root, roots, pulled, decide(facts, labels, limits, sources))
    keep = set(movable)
    moving = {closure.root: len(movable)}
    for name, per_root in counts.items():
        moving[name] = sum(n for root_id, n in per_root.items() if root_id in keep)
    return ServerWindow(roots[-1][pk], scanned, movable, skipped, moving)


def _source_queries(closure: Closure, tables: Mapping[str, Table], roots: list[dict[str, Any]]
                    ) -> tuple[list[str], dict[str, list[Any]]]:
    """Ledger roots whose source document (named by table and id) is still in production, as
    `candidates.sources_in_production` finds them: one part per source table the window names."""
    if closure.family.source_link is None:
        return [], {}
    type_col, id_col = closure.family.source_link
    named = [r for r in roots if r[type_col] in tables and r[id_col] is not None]
    parts = []
    for name in sorted({r[type_col] for r in named}):
        pk = q(pk_column(tables[name]))
        parts.append(f"SELECT 'source', 0, s.root, 'its source document {name} ' || s.id || ' is still in "
                     f"production', NULL::date, 0::bigint FROM src s JOIN {q(name)} d ON d.{pk} = s.id "
                     f"WHERE s.type = '{name}'")
    pk = pk_column(tables[closure.root])
    params = {"src_roots": [r[pk] for r in named], "src_types": [r[type_col] for r in named],
              "src_ids": [r[id_col] for r in named]}
    return parts, params


def _facts(conn: Connection, closure: Closure, tables: Mapping[str, Table], roots: list[dict[str, Any]], pk: str
           ) -> tuple[Facts, dict[str, dict[Any, int]], dict[Any, str]]:
    facts = Facts()
    closed, days = closure.family.closed.get(closure.root), closing_columns(closure.family, tables[closure.root])
    for r in roots:
        if closed is not None and r.get("status") not in closed:
            facts.open[r[pk]] = f"{label(r, closure.root, pk)} is {r.get('status')}"
        for day in days:
            facts.close_on(r[pk], as_date(r.get(day)))
    counts: dict[str, dict[Any, int]] = defaultdict(dict)
    sources: dict[Any, str] = {}
    parts = _fact_queries(closure, tables)
    source_parts, params = _source_queries(closure, tables, roots)
    if not parts + source_parts:
        return facts, counts, sources
    ctes = walk(closure, tables, facts=True)
    if source_parts:
        ctes.append("src AS (SELECT * FROM unnest(%(src_roots)s::bigint[], %(src_types)s::text[], "
                    "%(src_ids)s::bigint[]) AS s(root, type, id))")
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(parts + source_parts)
    found = conn.exec_driver_sql(sql, {"roots": [r[pk] for r in roots], **params}).all()
    for kind, k, root_id, reason, latest, n in sorted(found, key=lambda f: (f[0], f[1])):
        if kind == "rows":
            counts[closure.tables[k]][root_id] = int(n)
            facts.close_on(root_id, latest)
        elif kind == "open":
            facts.open.setdefault(root_id, reason)
        elif kind == "source":
            sources[root_id] = reason
        else:
            facts.referenced.setdefault(root_id, reason)
    return facts, counts, sources
