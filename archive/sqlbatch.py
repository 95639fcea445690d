"""A whole server-side batch in ONE round trip: a PL/pgSQL function per family, created in the archive schema
at the start of each run, that locks and judges the window, moves the movable closures, verifies them and
commits the manifest, the carry-forward and the checkpoint with the move.

`archive.serverside` sends a batch as about nine statements; on a busy server each round trip costs 10-15 ms
and the batch holds its locks all that time. Here the same steps run inside the server, from one
`SELECT <function>(...)` in autocommit mode, which is also the batch's transaction:

1. lock the next window of roots after the checkpoint (`FOR UPDATE SKIP LOCKED`) and judge each one as
   `candidates.decide` does: open, open period, residence, referenced, source document in production;
2. per table, children first, `DELETE ... RETURNING *` the movable closures' rows (by the keys the judging
   walk found: the closure is walked once; a leaf no fact is about, by its parent's keys) into the archive
   table, hashed as they leave;
3. hash the archive's rows of the batch; any difference in counts or hashes raises SQLSTATE `ERPA1`,
   which rolls the whole batch back and reaches Python as `VerificationFailed`;
4. write the carry-forward (`archive.ledger`'s, computed from the archived rows), the batch row and its copy
   in `archive_manifest`, and advance the checkpoint.

A purge transaction's settings (`archive.purge.purge_settings`), the planner settings of `archive.serverside`
and a generic plan for every statement (planned once a session, not once a call) are the function's own
settings; the caller's `statement_timeout` bounds the whole call.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, Table, inspect
from sqlalchemy.exc import DBAPIError

from archive.batch import BatchOutcome
from archive.candidates import Limits, Skip, links
from archive.closure import Closure, closing_columns, document_date, pk_column
from archive.context import Archive
from archive.errors import VerificationFailed
from archive.families import CARRY_FORWARD_SOURCE
from archive.purge import purge_settings
from archive.rowhash import RECORD
from archive.serverside import FOLLOW_INDEXES
from archive.sqlcarry import carry_forward_sql
from archive.sqlhash import aggregate_sql
from archive.sqlhash import quote_ident as q
from archive.sqlwindow import referencing
from archive.store import BATCH_COLUMN

PREFIX = "erpops_archive_batch_of_"
MISMATCH = "ERPA1"  # the SQLSTATE of a batch whose counts or hashes do not match
M64 = 1 << 64


def function_name(schema: str, family: str) -> str:
    return f"{q(schema)}.{q(PREFIX + family)}"


def install(conn: Connection, ax: Archive, closure: Closure, where: tuple[str, set[str]] | None = None) -> str:
    """(Re)create the family's batch function in the archive schema; returns its qualified name. `where`: the
    source's schema and tables, when the caller has read them (and created `erpops_archive_hex`) already."""
    schema = str(ax.server_schema)
    if where is None:
        where = (str(conn.exec_driver_sql("SELECT current_schema()").scalar_one()),
                 set(inspect(conn).get_table_names()))
        conn.exec_driver_sql(hex_function_sql(schema))
    source, present = where
    kind = RECORD if ax.settings.server_hash == "record" else ""
    # the driver reads `%` as its placeholder even without parameters: RAISE's own `%` are doubled
    conn.exec_driver_sql(function_sql(ax, closure, schema, source, present, kind).replace("%", "%%"))
    return function_name(schema, closure.family.name)


def drop(conn: Connection, ax: Archive, family: str) -> None:
    conn.exec_driver_sql(f"DROP FUNCTION IF EXISTS {function_name(str(ax.server_schema), family)}"
                         "(bigint, bigint, integer, date, date, date, text, text)")


def call_batch(conn: Connection, function: str, run_id: int, family: str, limits: Limits, after: Any, size: int
               ) -> BatchOutcome:
    """Run one batch as one call (on a connection in autocommit mode: the call is the batch's transaction)."""
    params = {"run": run_id, "after": int(after or 0), "size": size, "until": limits.until,
              "closed": limits.closed_through, "residence": limits.residence_end, "source": limits.closed_source,
              "years": f"{limits.residence_years:g}"}
    began = time.perf_counter()
    try:
        with conn.begin():
            got: dict[str, Any] = conn.exec_driver_sql(
                f"SELECT {function}(%(run)s::bigint, %(after)s::bigint, %(size)s::integer, %(until)s::date, "
                "%(closed)s::date, %(residence)s::date, %(source)s::text, %(years)s::text)", params).scalar_one()
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == MISMATCH:
            raise VerificationFailed(str(exc.orig.diag.message_primary)) from exc  # type: ignore[union-attr]
        raise
    skipped = [Skip(*s) for s in got.get("skipped") or []]
    took = {step: float(ms) for step, ms in (got.get("ms") or {}).items()}
    took["call"] = (time.perf_counter() - began) * 1000
    if got.get("done"):
        return BatchOutcome(family, None, True, scanned=0, reason="no candidates left", after=after, took_ms=took)
    if not got.get("batch"):
        return BatchOutcome(family, None, False, scanned=got["scanned"], skipped=skipped, after=got["last_key"],
                            reason=f"all {got['scanned']} candidates in the window stay", took_ms=took)
    return BatchOutcome(family, got["batch"], False, got["documents"], got["rows"], got["scanned"], skipped,
                        f"batch {got['batch']}: {got['documents']} documents, {got['rows']} rows moved in one "
                        f"server call and verified (hash {got['hash'][:12]})", after=got["last_key"], took_ms=took)


def hex_function_sql(schema: str) -> str:
    """`erpops_archive_hex(parts, kind)`: a digest's text as `rowhash.Digest.hex` writes it, from the summed
    parts (count, high halves, low halves, negative lows, size) of `sqlhash.aggregate_sql`."""
    m128 = M64 * M64
    h16 = "lpad(to_hex((CASE WHEN {v} >= {half} THEN {v} - {m} ELSE {v} END)::bigint), 16, '0')"

    def hex16(v: str) -> str:
        return h16.format(v=v, half=M64 // 2, m=M64)

    canonical = f"mod(mod(d[2] * {M64} + d[3] + d[4] * {M64}, {m128}) + {m128}, {m128})"
    return (f"CREATE OR REPLACE FUNCTION {q(schema)}.erpops_archive_hex(d numeric[], kind text) RETURNS text "
            f"LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN kind = '{RECORD}' THEN "
            f"'{RECORD}:' || {hex16(f'mod(mod(d[3], {M64}) + {M64}, {M64})')} ELSE "
            f"{hex16(f'div(c, {M64})')} || {hex16(f'mod(c, {M64})')} END "
            f"FROM (SELECT {canonical} AS c) v $$")


def function_sql(ax: Archive, closure: Closure, schema: str, source: str, present: set[str], kind: str) -> str:
    """The CREATE FUNCTION statement of `closure`'s batch function (see the module's docstring)."""
    tables = [ax.tables[name] for name in closure.tables]
    n = len(tables)
    leaves = by_parent(closure, ax.tables)
    ids = [f"v_ids{k}" for k in range(n) if k not in leaves]
    declare = "\n".join([*(f"    {v} bigint[];" for v in ids), *(f"    v_m{k} numeric[];\n    v_a{k} numeric[];"
                                                                  for k in range(n))])
    family = closure.family.name
    hexed = f"{q(schema)}.erpops_archive_hex"
    parts = ", ".join("(" + " + ".join(f"COALESCE(v_m{k}[{i}], 0)" for k in range(n)) + ")" for i in range(1, 6))
    counts = ", ".join(f"'{t.name}', CASE WHEN v_m{k}[1] > 0 THEN v_m{k}[1]::bigint END" for k, t in enumerate(tables))
    hashes = ", ".join(f"'{t.name}', CASE WHEN v_m{k}[1] > 0 THEN {hexed}(v_m{k}, '{kind}') END"
                       for k, t in enumerate(tables))
    checks = "\n".join(_check(t, k, hexed, kind, k not in leaves) for k, t in enumerate(tables))
    cp = "UPDATE archive_checkpoint SET last_key = {key}, done = {done}, updated_at = now(){more} " \
         f"WHERE run_id = p_run AND family = '{family}';"
    # plan_cache_mode: PL/pgSQL prepares each statement once per session, but with its parameters PostgreSQL
    # kept choosing a custom plan, so every call planned its statements anew: 10 to 16 ms for a judge alone
    settings = {**FOLLOW_INDEXES, "plan_cache_mode": "force_generic_plan",
                **purge_settings(ax.settings.lock_timeout_ms)}
    sets = "\n".join([*(f"SET {q(k) if '.' in k else k} = '{v}'" for k, v in settings.items()),
                      f"SET search_path = {q(source)}, pg_catalog"])
    manifest_cols = ("id, run_id, family, state, first_key, last_key, roots, rows, counts, hashes, hash, parquet, "
                     "created_at, archived_at, reason, restore_pending")
    values = (f"v_batch, p_run, '{family}', 'archived', v_first, v_last_moved, cardinality(v_ids0), v_rows, "
              f"v_counts::json, v_hashes::json, v_hash, NULL, now(), now(), v_carried, NULL")
    return f"""CREATE OR REPLACE FUNCTION {function_name(schema, family)}(p_run bigint, p_after bigint,
    p_limit integer, p_until date, p_closed_through date, p_residence_end date, p_closed_source text, p_years text)
RETURNS jsonb LANGUAGE plpgsql VOLATILE
{sets}
AS $fn$
#variable_conflict use_column
DECLARE
    v_scanned bigint;
    v_last bigint;
    v_skipped jsonb;
    v_batch bigint;
    v_first bigint;
    v_last_moved bigint;
    v_total numeric[];
    v_rows bigint;
    v_hash text;
    v_counts jsonb;
    v_hashes jsonb;
    v_carried text;
    v_day date;
    v_n bigint;
    v_entry bigint;
    v_number text;
    v_t timestamptz := clock_timestamp();
    v_ms jsonb := '{{}}';
{declare}
BEGIN
    {_judge_sql(ax, closure, present, leaves)}
    {_lap('judge')}
    IF v_scanned = 0 THEN
        {cp.format(key="p_after", done="true", more="")}
        RETURN jsonb_build_object('done', true);
    END IF;
    IF v_ids0 IS NULL THEN
        {cp.format(key="v_last", done="false", more="")}
        RETURN jsonb_build_object('scanned', v_scanned, 'last_key', v_last, 'skipped', v_skipped, 'ms', v_ms);
    END IF;
    v_batch := nextval(pg_get_serial_sequence('archive_batch', 'id'));
    v_first := v_ids0[1];
    v_last_moved := v_ids0[cardinality(v_ids0)];
    {_move_sql(closure, tables, schema, kind, leaves)}
    {_lap('move')}
    {_read_back_sql(tables, schema, kind)}
    {_lap('read back')}
{checks}
    v_total := ARRAY[{parts}];
    v_rows := v_total[1]::bigint;
    v_hash := {hexed}(v_total, '{kind}');
    v_counts := jsonb_strip_nulls(jsonb_build_object({counts}));
    v_hashes := jsonb_strip_nulls(jsonb_build_object({hashes}));
{carry_forward_sql(closure.family.carry_forward, schema)}
    {_lap('carry-forward')}
    INSERT INTO archive_batch ({manifest_cols}) VALUES ({values});
    INSERT INTO {q(schema)}.archive_manifest ({manifest_cols}) VALUES ({values});
    {cp.format(key="v_last", done="false", more=", rows = rows + v_rows, batches = batches + 1")}
    {_lap('book')}
    RETURN jsonb_build_object('batch', v_batch, 'scanned', v_scanned, 'last_key', v_last, 'skipped', v_skipped,
                              'documents', cardinality(v_ids0), 'rows', v_rows, 'hash', v_hash,
                              'ms', v_ms);
END
$fn$"""


def _lap(step: str) -> str:
    """Milliseconds since the last lap into `v_ms` under `step`: where a call's time goes (`--profile`)."""
    return (f"v_ms := v_ms || jsonb_build_object('{step}', round((extract(epoch FROM clock_timestamp() - v_t) "
            "* 1000)::numeric, 2)); v_t := clock_timestamp();")


def _check(table: Table, k: int, hexed: str, kind: str, judged: bool = True) -> str:
    """Counts as judged (a table moved by its parent's keys has no count of its own), and the archive's rows of
    the batch as deleted, or the batch raises."""
    name = table.name
    counted = f"""    IF COALESCE(v_m{k}[1], 0) <> COALESCE(cardinality(v_ids{k}), 0) THEN
        RAISE EXCEPTION 'batch %: {name}: deleted % rows, judged %; the batch is rolled back', v_batch,
            COALESCE(v_m{k}[1], 0), COALESCE(cardinality(v_ids{k}), 0) USING ERRCODE = '{MISMATCH}';
    END IF;
""" if judged else ""
    return counted + f"""    IF v_m{k} IS DISTINCT FROM v_a{k} THEN
        RAISE EXCEPTION 'batch %: {name} reads back from the archive as % rows hash %, deleted % rows hash %; '
            'the batch is rolled back', v_batch, v_a{k}[1], left({hexed}(v_a{k}, '{kind}'), 12), v_m{k}[1],
            left({hexed}(v_m{k}, '{kind}'), 12) USING ERRCODE = '{MISMATCH}';
    END IF;"""


def _parts(table: Table, source: str, kind: str) -> str:
    """One table's digest parts as a numeric[5] (count, high, low, negative lows, size; zeros when empty)."""
    return (f"(SELECT ARRAY[n, COALESCE(hi, 0), COALESCE(lo, 0), COALESCE(neg, 0), COALESCE(size, 0)]::numeric[] "
            f"FROM ({aggregate_sql(table, source, kind=kind)}) a(n, hi, lo, neg, size))")


def by_parent(closure: Closure, tables: Mapping[str, Table]) -> dict[int, int]:
    """The closure's tables moved by their parent's keys, each with its parent's index: leaves that no fact is
    about (no closing date, no status, no reference from outside or to them) need no walk of their own in the
    judge (the journal's lines were 14 ms of a 64 ms judge over 3,941 entries)."""
    parents = {e.parent for e in closure.owning.values()}
    referenced = {name for e in closure.inbound for name in (e.parent, e.child)}
    out = {}
    for k, name in enumerate(closure.tables):
        edge = closure.owning.get(name)
        if (k and edge is not None and name not in parents and name not in referenced
                and name not in closure.family.closed and not closing_columns(closure.family, tables[name])
                and edge.parent_column == pk_column(tables[edge.parent])):
            out[k] = closure.tables.index(edge.parent)
    return out


def _move_sql(closure: Closure, tables: list[Table], schema: str, kind: str, leaves: Mapping[int, int]) -> str:
    """Children first: delete by the judged keys (a leaf by its parent's) into the archive, hashing what was
    deleted."""
    ctes, selects, into = [], [], []
    batch = q(BATCH_COLUMN)
    for k in reversed(range(len(tables))):
        table = tables[k]
        names = ", ".join(q(c.name) for c in table.columns)
        by = (f"{q(closure.owning[table.name].column)} = ANY(v_ids{leaves[k]})" if k in leaves
              else f"{q(pk_column(table))} = ANY(v_ids{k})")
        ctes.append(f"m{k} AS (DELETE FROM {q(table.name)} WHERE {by} RETURNING *), "
                    f"c{k} AS (INSERT INTO {q(schema)}.{q(table.name)} ({names}, {batch}) "
                    f"SELECT {names}, v_batch FROM m{k})")
        selects.append(_parts(table, f"m{k} r", kind))
        into.append(f"v_m{k}")
    return f"WITH {', '.join(ctes)}\n    SELECT {', '.join(selects)} INTO {', '.join(into)};"


def _read_back_sql(tables: list[Table], schema: str, kind: str) -> str:
    batch = q(BATCH_COLUMN)
    selects = [_parts(t, f"{q(schema)}.{q(t.name)} r WHERE r.{batch} = v_batch", kind) for t in tables]
    return f"SELECT {', '.join(selects)} INTO {', '.join(f'v_a{k}' for k in range(len(tables)))};"


def _root_window(closure: Closure, root: Table) -> list[str]:
    """`candidates.root_query` in SQL, locking: `k` the next roots after `p_after` up to `p_until`; `p` the
    candidates linked to them (`candidates.pull_linked`, every level); `r` the window, both."""
    pk = q(pk_column(root))
    edges = links(closure)
    wanted = {pk_column(root), "status", "number", *closing_columns(closure.family, root),
              *(closure.family.source_link or ()), *(e.column for e in edges)}
    columns = ", ".join(q(c.name) for c in root.columns if c.name in wanted)
    where = []
    column = document_date(closure.family, root)
    if column is not None:
        if isinstance(root.c[column].type, DateTime):
            where.append(f"{q(column)} < ((p_until + 1)::timestamp AT TIME ZONE 'UTC')")
        else:
            where.append(f"{q(column)} <= p_until")
    if closure.family.source_link is not None:
        where.append(f"{q(closure.family.source_link[0])} <> '{CARRY_FORWARD_SOURCE}'")
    out = [f"k AS (SELECT {columns} FROM {q(root.name)} WHERE {' AND '.join([f'{pk} > p_after', *where])} "
           f"ORDER BY {pk} LIMIT p_limit FOR UPDATE SKIP LOCKED)"]
    if not edges:
        return [*out, "r AS (SELECT * FROM k)"]
    cond = " AND ".join(f"t.{c}" for c in where) if where else "true"
    seed = " OR ".join(f"t.{q(e.column)} IN (SELECT {pk} FROM k)" for e in edges)
    step = " OR ".join(f"t.{q(e.column)} = l.id" for e in edges)
    return [*out,
            f"lk(id) AS (SELECT t.{pk} FROM {q(root.name)} t WHERE ({seed}) AND {cond} UNION "
            f"SELECT t.{pk} FROM {q(root.name)} t JOIN lk l ON {step} WHERE {cond})",
            f"p AS (SELECT {columns} FROM {q(root.name)} WHERE {pk} IN (SELECT id FROM lk) AND {pk} NOT IN "
            f"(SELECT {pk} FROM k) FOR UPDATE SKIP LOCKED)",
            "r AS (SELECT * FROM k UNION ALL SELECT * FROM p)"]


def _walk(closure: Closure, tables: Mapping[str, Table], skip: Mapping[int, int], checked: Mapping[int, int | None]
          ) -> list[str]:
    """CTEs x0..xn of the window's closures but `skip`'s: id, root, status, day (latest closing date), label,
    and ref<e> the column of each `checked` inbound edge e from the table (`_ranged`)."""
    out = []
    for k, name in enumerate(closure.tables):
        if k in skip:
            continue
        table = tables[name]
        alias = "r" if k == 0 else "t"
        pk = f"{alias}.{q(pk_column(table))}"
        days = [f"{alias}.{q(c)}::date" for c in closing_columns(closure.family, table)]
        day = days[0] if len(days) == 1 else f"GREATEST({', '.join(days)})" if days else "NULL::date"
        status = f"{alias}.status::text" if "status" in table.c else "NULL::text"
        number = f"NULLIF({alias}.number, '')" if "number" in table.c else "NULL"
        refs = "".join(f", t.{q(closure.inbound[e].column)} AS ref{e}" for e, child in checked.items() if child == k)
        head = f"x{k} AS (SELECT {pk} AS id, {'r.' + q(pk_column(table)) if k == 0 else 'p.root'} AS root, " \
               f"{status} AS status, {day} AS day, COALESCE({number}, '{name} ' || {pk}) AS label{refs}"
        if k == 0:
            out.append(f"{head} FROM r)")
            continue
        edge = closure.owning[name]
        out.append(f"{head} FROM {q(name)} t JOIN x{closure.tables.index(edge.parent)} p "
                   f"ON t.{q(edge.column)} = p.id)")
    return out


# Facts per root, as one stream of (root, p, o1, o2, reason, day, label) rows: p 0 the root itself (its label
# and date), 1 a row still open, 2 a closure row's date, 3 a referencing row outside, 4 a source document in
# production, 5 a linked root in production; (o1, o2) orders the first reason of a kind as `candidates` finds
# it. One GROUP BY then judges every root: no join over the window (hash joins are off for the walk, and
# nested loops over two windows cost rows squared).
FACT = "SELECT {root}, {p}, {o1}, {o2}::bigint, {reason}, {day}, {label}"


def _fact_parts(closure: Closure, tables: Mapping[str, Table], present: set[str], checked: Mapping[int, int | None]
                ) -> list[str]:
    parts = [FACT.format(root="root", p=0, o1=0, o2=0, reason="NULL::text", day="day", label="label") + " FROM x0"]
    for k, name in enumerate(closure.tables):
        if k and closing_columns(closure.family, tables[name]):
            parts.append(FACT.format(root="root", p=2, o1=k, o2=0, reason="NULL", day="day", label="NULL")
                         + f" FROM x{k} WHERE day IS NOT NULL")
        closed = closure.family.closed.get(name)
        if closed:
            statuses = ", ".join(f"'{s}'" for s in closed)
            parts.append(FACT.format(root="root", p=1, o1=k, o2="id", reason="label || ' is ' || COALESCE(status, "
                                     "'None')", day="NULL", label="NULL")
                         + f" FROM x{k} WHERE status IS NULL OR status NOT IN ({statuses})")
    for e, edge in enumerate(closure.inbound):
        parts.append(FACT.format(root="p.root", p=3, o1=e, o2="c.id", reason=f"'referenced by {edge.child} ' || c.id "
                                 f"|| ' ({edge.column})'", day="NULL", label="NULL")
                     + f" FROM {referencing(closure, tables, edge)}"
                     + (f" WHERE NOT (SELECT v FROM ok{e})" if e in checked else ""))
    root_pk = q(pk_column(tables[closure.root]))
    for e, edge in enumerate(links(closure)):
        ref = f"r.{q(edge.column)}"
        parts.append(FACT.format(root=f"r.{root_pk}", p=5, o1=e, o2=ref, reason=f"'moves only with {closure.root} ' "
                                 f"|| {ref} || ', which is still in production'", day="NULL", label="NULL")
                     + f" FROM r JOIN {q(closure.root)} o ON o.{root_pk} = {ref} WHERE {ref} NOT IN "
                       f"(SELECT {root_pk} FROM r)")
    if closure.family.source_link is not None:
        # a part per table that may be a source, over that type's keys of `sources` alone: each part scans the
        # window's one row of its type, not the window (25 scans of 4,000 journal entries were 9 ms a batch)
        for name in sorted(n for n in tables if n in present and _integer_key(tables[n])):
            pk = q(pk_column(tables[name]))
            parts.append(FACT.format(root="u.root", p=4, o1=0, o2=0, reason=f"'its source document {name} ' "
                                     f"|| d.{pk} || ' is still in production'", day="NULL", label="NULL")
                         + f" FROM sources s CROSS JOIN LATERAL unnest(s.ids, s.roots) u(id, root) JOIN {q(name)} d "
                           f"ON d.{pk} = u.id WHERE s.type = '{name}'")
    return parts


def _ranged(closure: Closure, tables: Mapping[str, Table]) -> dict[int, int | None]:
    """The inbound edges checked first by counting over the window's key range, each with its child's index in
    the closure (None for a child outside it): those into an integer key from any table but the root."""
    out: dict[int, int | None] = {}
    for e, edge in enumerate(closure.inbound):
        child = closure.tables.index(edge.child) if edge.child in closure.tables else None
        if child != 0 and _integer_key(tables[edge.parent]):
            out[e] = child
    return out


def _range_checks(closure: Closure, checked: Mapping[int, int | None]) -> list[str]:
    """CTEs ok<e>: true when no row outside the window's closures references the window's rows of edge e's
    parent, proven by counting: the rows of the child referencing a key between the window's lowest and
    highest (one index range scan) are as many as the window's closures hold; or, where other documents' keys
    fall in that range (shipments interleave), those referencing one of the window's keys. False when the
    counts differ or the keys are too sparse for a range scan: then the edge's per-row probes run. (Those
    probes, for the six edges between a sales order's own tables, were half of the judge: 108 ms of 154 over
    2,500 orders.)"""
    out = []
    for e, child in checked.items():
        edge = closure.inbound[e]
        parent = f"x{closure.tables.index(edge.parent)}"
        # NOT (x NOT IN (...)): a hashed subplan; `x IN (...)` would be a semi-join, here a nested loop
        conds = ("{c} BETWEEN lo AND hi", "{c} BETWEEN lo AND hi AND NOT ({c} NOT IN (SELECT id FROM " + parent + "))")
        inside = [f"(SELECT count(*) FROM x{child} WHERE {cond.format(c=f'ref{e}')})" if child is not None else "0"
                  for cond in conds]
        found = [f"(SELECT count(*) FROM {q(edge.child)} c WHERE {cond.format(c=f'c.{q(edge.column)}')})"
                 for cond in conds]
        out.append(f"ok{e}(v) AS (SELECT CASE WHEN n = 0 THEN true WHEN hi - lo >= 4 * n + 64 THEN false "
                   f"WHEN {found[0]} = {inside[0]} THEN true ELSE {found[1]} = {inside[1]} END "
                   f"FROM (SELECT min(id) AS lo, max(id) AS hi, count(*) AS n FROM {parent}) b)")
    return out


def _sources(closure: Closure, root_pk: str) -> list[str]:
    """The CTE `sources`: per source type named in the window, its source keys and their roots (one pass)."""
    if closure.family.source_link is None:
        return []
    type_col, id_col = (q(c) for c in closure.family.source_link)
    return [f"sources(type, ids, roots) AS (SELECT {type_col}::text, array_agg({id_col}), array_agg({root_pk}) "
            f"FROM r GROUP BY 1)"]


def _integer_key(table: Table) -> bool:
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and isinstance(keys[0].type, Integer)


def _judge_sql(ax: Archive, closure: Closure, present: set[str], leaves: Mapping[int, int]) -> str:
    """Lock and judge the window in one statement; the movable closures' keys per table into v_ids0..n."""
    tables = ax.tables
    n = len(closure.tables)
    root_pk = q(pk_column(tables[closure.root]))
    first = "max(reason) FILTER (WHERE p = {p})"
    checked = _ranged(closure, tables)
    ctes = [*_root_window(closure, tables[closure.root]), *_walk(closure, tables, leaves, checked),
            *_sources(closure, root_pk), *_range_checks(closure, checked),
            "facts(root, p, o1, o2, reason, day, label) AS (" + " UNION ALL ".join(
                _fact_parts(closure, tables, present, checked)) + ")",
            # the first reason of each kind per root: one sort of the few reasons, then plain aggregates (an
            # ordered aggregate per kind sorts per root, 3.5 ms over 2,000 roots; plain ones take 0.5 ms)
            "firsts AS (SELECT DISTINCT ON (root, p) root, p, reason FROM facts WHERE p IN (1, 3, 4, 5) "
            "ORDER BY root, p, o1, o2)",
            f"per AS (SELECT root, max(day) AS day, {first.format(p=1)} AS open, {first.format(p=3)} AS ref, "
            f"{first.format(p=4)} AS src, {first.format(p=5)} AS lnk, max(label) AS label FROM (SELECT root, p, day, "
            "label, NULL AS reason FROM facts WHERE p IN (0, 2) UNION ALL SELECT root, p, NULL, NULL, reason "
            "FROM firsts) f GROUP BY root)",
            "judged AS (SELECT root AS id, label, CASE WHEN open IS NOT NULL THEN 'open' "
            "WHEN day > p_closed_through THEN 'open_period' WHEN day > p_residence_end THEN 'residence' "
            "WHEN ref IS NOT NULL THEN 'referenced' WHEN src IS NOT NULL THEN 'source_in_production' "
            "WHEN lnk IS NOT NULL THEN 'linked' END AS kind, CASE WHEN open IS NOT NULL THEN open "
            "WHEN day > p_closed_through THEN 'closing date ' || to_char(day, 'YYYY-MM-DD') || ' is after the "
            "last closed period (' || to_char(p_closed_through, 'YYYY-MM-DD') || ', ' || p_closed_source || ')' "
            "WHEN day > p_residence_end THEN 'closed on ' || to_char(day, 'YYYY-MM-DD') || ': its residence "
            "time of ' || p_years || ' years runs to ' || to_char(p_residence_end, 'YYYY-MM-DD') "
            "ELSE COALESCE(ref, src, lnk) END AS reason FROM per)"]
    edges = links(closure)
    if edges:
        # linked roots stay together (`candidates.settle`): `by` is the root a tied one stays with. With hash joins
        # off, any join of the window on itself costs rows squared: `NOT (x NOT IN (...))` is a semi-join as a
        # hashed subplan, and the few staying roots are looked up in `judged` one by one.
        linked = " UNION ALL ".join(f"SELECT {root_pk}, {q(e.column)} FROM r WHERE {q(e.column)} IS NOT NULL AND NOT "
                                    f"({q(e.column)} NOT IN (SELECT {root_pk} FROM r))" for e in edges)
        ctes += [f"linked(a, b) AS ({linked})",
                 "pair(a, b) AS (SELECT a, b FROM linked UNION ALL SELECT b, a FROM linked)",
                 "staying(id, by) AS (SELECT id, NULL::bigint FROM judged WHERE kind IS NOT NULL UNION "
                 "SELECT pair.b, pair.a FROM pair JOIN staying s ON pair.a = s.id)",
                 "tied AS (SELECT DISTINCT ON (id) id, j[1] AS label, 'linked' AS kind, 'moves only with ' || "
                 "(SELECT label FROM judged WHERE judged.id = s.by) || ', which stays' AS reason FROM (SELECT s.*, "
                 "(SELECT ARRAY[label, kind] FROM judged WHERE judged.id = s.id) AS j FROM staying s WHERE by IS NOT "
                 "NULL OFFSET 0) s WHERE j[2] IS NULL ORDER BY id, by)",
                 "told AS (SELECT id, label, kind, reason FROM judged WHERE kind IS NOT NULL UNION ALL "
                 "SELECT * FROM tied)",
                 # the planner guesses a recursive CTE at 372,129 rows (11 real over 4,000 journal entries): a NOT
                 # IN over it was a subplan scanned per window row (15.7 ms of a 63 ms judge), or with the work_mem
                 # to hash it a hash table of that many buckets (8.3 ms); a GROUP BY over a CTE is guessed at 200
                 "held(id) AS (SELECT id FROM staying GROUP BY id)"]
        ahead = f"(SELECT count(*) FROM p WHERE {root_pk} NOT IN (SELECT id FROM held))"
        own = f"WHERE id NOT IN (SELECT {root_pk} FROM p)"  # NOT IN: a hashed subplan, not a semi-join
    else:
        ctes += ["held AS (SELECT id FROM judged WHERE kind IS NOT NULL)",
                 "told AS (SELECT id, label, kind, reason FROM judged WHERE kind IS NOT NULL)"]
        ahead, own = "0", ""
    # NOT IN over a subquery is a hashed subplan: a key set per table without a join; only the roots' in order
    # (the batch's first and last key: `= ANY` sorts its array itself)
    judged = [k for k in range(n) if k not in leaves]
    ids = [f"(SELECT array_agg(id{' ORDER BY id' if k == 0 else ''}) FROM x{k} WHERE root NOT IN "
           "(SELECT id FROM held))" for k in judged]
    selects = [f"(SELECT count(*) FROM k) + {ahead}", f"(SELECT max({root_pk}) FROM k)",
               f"(SELECT jsonb_agg(jsonb_build_array(label, kind, reason) ORDER BY id) FROM told {own})",
               *ids]
    into = ["v_scanned", "v_last", "v_skipped", *(f"v_ids{k}" for k in judged)]
    return f"WITH RECURSIVE {', '.join(ctes)}\n    SELECT {', '.join(selects)} INTO {', '.join(into)};"


@dataclass
class Caller:
    """A run's one-call batches: its own connection in autocommit mode (each call is one transaction), the
    functions it installed, and the statement timeout the session has (changed only when the bound does)."""

    ax: Archive
    conn: Connection | None = None
    functions: dict[str, str] = field(default_factory=dict)
    timeout_ms: int = 0

    def batch(self, run_id: int, closure: Closure, limits: Limits, after: Any, size: int, guard_ms: int | None
              ) -> BatchOutcome:
        """One batch of `closure`'s family; `guard_ms` cancels the call past that many milliseconds."""
        if self.conn is None:
            self.conn = self.ax.source.connect().execution_options(isolation_level="AUTOCOMMIT")
        family = closure.family.name
        if family not in self.functions:
            self._install(closure)
        if (guard_ms or 0) != self.timeout_ms:
            with self.conn.begin():
                self.conn.exec_driver_sql(f"SET statement_timeout = {int(guard_ms or 0)}")
            self.timeout_ms = guard_ms or 0
        return call_batch(self.conn, self.functions[family], run_id, family, limits, after, size)

    def _install(self, closure: Closure) -> None:
        """Every server-side family's function at once (one transaction, one commit), `closure`'s at least."""
        assert self.conn is not None
        wanted = [c for c in self.ax.closures.values() if self.ax.server_side(c) and c.family.name not in self.functions]
        conn = self.conn.execution_options(isolation_level="READ COMMITTED")
        with conn.begin():
            where = (str(conn.exec_driver_sql("SELECT current_schema()").scalar_one()),
                     set(inspect(conn).get_table_names()))
            conn.exec_driver_sql(hex_function_sql(str(self.ax.server_schema)))
            for each in wanted if closure in wanted else [closure, *wanted]:
                self.functions[each.family.name] = install(conn, self.ax, each, where)
        self.conn = conn.execution_options(isolation_level="AUTOCOMMIT")

    def close(self) -> None:
        """Drop the functions and give the connection back (a killed run leaves them: the next one replaces them)."""
        if self.conn is None:
            return
        try:
            with self.conn.begin():
                self.conn.exec_driver_sql("RESET statement_timeout")
                for family in self.functions:
                    drop(self.conn, self.ax, family)
        finally:
            self.conn.close()
            self.conn = None
