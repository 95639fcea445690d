"""`analyze --verify`: build the chosen indexes for real and measure what they change.

By default on a scratch copy: the recommended indexes' tables are copied (`LIKE ... INCLUDING ALL`, so their
current indexes come too) into a throw-away schema that leads the search path, so the statements' unqualified
table names reach the copies. With `concurrently` the indexes are built on the real tables with CREATE INDEX
CONCURRENTLY and dropped afterwards. Each helped statement runs under EXPLAIN ANALYZE inside a transaction that
is rolled back, before and after; the measured speed-up is set against hypopg's estimate, more than 2x apart is
flagged, and the real index size is reported (hypopg overstates low-cardinality keys).
"""

from __future__ import annotations

import json
import statistics
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.candidates import Candidate
from advisor.planner import Prepared

RUNS = 3
DISAGREEMENT = 2.0


@dataclass
class IndexCheck:
    index: str
    estimated_speedup: float
    measured_speedup: float
    estimated_bytes: int
    real_bytes: int
    build_seconds: float
    disagrees: bool
    reason: str


@dataclass
class Verification:
    where: str
    indexes: list[IndexCheck] = field(default_factory=list)
    timings_ms: dict[str, tuple[float, float]] = field(default_factory=dict)  # statement -> (before, after)
    reason: str = ""


def verify(conn: Any, report: Any, concurrently: bool = False,
           progress: Callable[[str], None] | None = None) -> Verification:
    """Measured against estimated improvement of each recommendation."""
    recs = report.recommendations
    where = "the real tables (CREATE INDEX CONCURRENTLY, dropped after)" if concurrently else "a scratch copy"
    result = Verification(where)
    if not recs:
        result.reason = "nothing to verify: no recommendation"
        return result
    helped = {q.statement for r in recs for q in r.queries}
    prepared = [p for p in report.prepared if p.statement.label in helped]
    schema = None if concurrently else f"advisor_scratch_{uuid.uuid4().hex[:10]}"
    built: list[str] = []
    path = conn.execute("SHOW search_path").fetchone()[0]
    try:
        if schema is not None:
            _copy_tables(conn, schema, sorted({r.table for r in recs}), path)
        before = {p.statement.label: _measure(conn, p) for p in prepared}
        builds = {r.name: _build(conn, r.candidate, r.name, schema, built) for r in recs}
        after = {p.statement.label: _measure(conn, p) for p in prepared}
        result.timings_ms = {k: (round(before[k], 3), round(after[k], 3)) for k in before}
        result.indexes = [_check(r, before, after, builds[r.name]) for r in recs]
    finally:
        _clean(conn, schema, built, path)
    wrong = [c.index for c in result.indexes if c.disagrees]
    result.reason = (f"measured {len(prepared)} statement(s) on {where}; "
                     + (f"estimate and measurement disagree by more than {DISAGREEMENT:g}x for {', '.join(wrong)}"
                        if wrong else f"every estimate within {DISAGREEMENT:g}x of the measurement"))
    if progress is not None:
        progress(result.reason)
    return result


def _copy_tables(conn: Any, schema: str, tables: list[str], path: str) -> None:
    conn.execute(f"CREATE SCHEMA {schema}")
    for table in tables:
        bare = table.rsplit(".", 1)[-1]
        conn.execute(f"CREATE TABLE {schema}.{bare} (LIKE {table} INCLUDING ALL)")
        conn.execute(f"INSERT INTO {schema}.{bare} OVERRIDING SYSTEM VALUE SELECT * FROM {table}")
        conn.execute(f"ANALYZE {schema}.{bare}")
    conn.execute(f"SET search_path = {schema}, {path}")


def _build(conn: Any, candidate: Candidate, name: str, schema: str | None, built: list[str]) -> tuple[float, int]:
    import time

    target = Candidate(f"{schema}.{candidate.table.rsplit('.', 1)[-1]}", candidate.keys, candidate.include) \
        if schema else candidate
    started = time.perf_counter()
    conn.execute(target.ddl(concurrently=schema is None, name=name))
    seconds = time.perf_counter() - started
    qualified = f"{schema}.{name}" if schema else name
    built.append(qualified)
    conn.execute(f"ANALYZE {target.table}")
    size = conn.execute("SELECT pg_relation_size(%s::regclass)", (qualified,)).fetchone()[0]
    return seconds, int(size)


def _measure(conn: Any, prepared: Prepared) -> float:
    """Mean over the parameter sets of the best of RUNS executions, in ms (rolled back)."""
    import psycopg
    from psycopg import sql as pgsql

    sets = prepared.param_sets or ([[]] if not prepared.shape.param_count else [])
    if not sets:
        return float("nan")
    times = []
    conn.execute("SET plan_cache_mode = force_custom_plan")
    for values in sets:
        runs = []
        for _ in range(RUNS):
            with conn.transaction(force_rollback=True):
                try:
                    if values:
                        conn.execute(f"DEALLOCATE ALL; PREPARE advisor_verify AS {prepared.statement.text}")
                        args = pgsql.SQL(", ").join(pgsql.Literal(v) for v in values).as_string(conn)
                        row = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE advisor_verify({args})")
                    else:
                        row = conn.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {prepared.statement.text}")
                    plan = row.fetchone()[0]
                except psycopg.Error:
                    return float("nan")
            plan = plan if isinstance(plan, list) else json.loads(plan)
            runs.append(float(plan[0]["Execution Time"]))
        times.append(min(runs))
    return statistics.mean(times)


def _check(rec: Any, before: dict[str, float], after: dict[str, float], build: tuple[float, int]) -> IndexCheck:
    est_before = sum(q.calls * q.cost_before for q in rec.queries)
    est_after = sum(q.calls * q.cost_after for q in rec.queries)
    pairs = [(q.calls * before[q.statement], q.calls * after[q.statement]) for q in rec.queries
             if q.statement in before and before[q.statement] == before[q.statement]]
    measured_before, measured_after = sum(b for b, _ in pairs), sum(a for _, a in pairs)
    estimated = est_before / est_after if est_after else float("inf")
    measured = measured_before / measured_after if measured_after else float("inf")
    apart = max(estimated / measured, measured / estimated) if measured and estimated else float("inf")
    disagrees = bool(pairs) and apart > DISAGREEMENT
    why = (f"{len(pairs)} statement(s) measured: {measured_before:.2f} -> {measured_after:.2f} ms (calls-weighted)"
           if pairs else "no statement could be measured (no parameter values)")
    if disagrees:
        why += f"; the estimate is {apart:.1f}x off"
    return IndexCheck(rec.name, round(estimated, 2), round(measured, 2), rec.estimated_bytes, build[1],
                      round(build[0], 3), disagrees, why)


def _clean(conn: Any, schema: str | None, built: list[str], path: str) -> None:
    """Drop the scratch schema or the indexes built on the real tables; after an interruption the session may be
    mid-statement, so a fresh one does it."""
    import psycopg

    statements = [f"DROP SCHEMA IF EXISTS {schema} CASCADE"] if schema else [
        f"DROP INDEX CONCURRENTLY IF EXISTS {name}" for name in built]
    try:
        if schema is not None:
            conn.execute(f"SET search_path = {path}")
        for statement in statements:
            conn.execute(statement)
        return
    except psycopg.Error:
        conn.cancel()
    with psycopg.connect(conn.info.dsn, autocommit=True, connect_timeout=10) as fresh:
        for statement in statements:
            fresh.execute(statement)
