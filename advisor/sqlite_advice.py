"""The advisor on SQLite: a statement file, EXPLAIN QUERY PLAN, and the schema copied into memory.

SQLite has no hypothetical indexes and no statement statistics, so the feature set is smaller: the schema and
table sizes are copied into an in-memory database, each candidate is created there with `sqlite_stat1` rows
measured on the real data (rows per distinct key prefix), and EXPLAIN QUERY PLAN shows whether SQLite's planner
would use it. A statement's price is the rows its plan reads (a scan reads the table, a search the rows per key,
a join multiplies, a temporary b-tree sorts again); selection is greedy over calls x rows. No generic or
sampled plans, no --verify, no apply, and no unused-index report (SQLite counts no index scans); duplicate and
prefix-covered indexes are reported.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.candidates import Candidate, for_shape
from advisor.catalog import Catalog, ExistingIndex, TableInfo
from advisor.errors import AdvisorUnavailable, AdvisorUsageError
from advisor.health import HealthReport, duplicates
from advisor.shape import shape_of
from advisor.workload import Statement

STEP = re.compile(r"^(SCAN|SEARCH) (\w+)(?: AS \w+)?(?: USING (?:COVERING )?(INTEGER PRIMARY KEY|PRIMARY KEY|INDEX "
                  r"(\w+))(?: \((.*)\))?)?")
PARAM = re.compile(r"\$(\d+)")
LIMIT = re.compile(r"\bLIMIT\s+(\d+|[$?:@]\w*)\s*$", re.IGNORECASE)
PAGE = 20  # rows a `LIMIT $n` is taken to ask for
FILTERED = 4.0  # rows a filtered scan reads per row it returns (SQLite's planner has no better figure either)


@dataclass
class SqliteQuery:
    statement: str
    calls: int
    plan_before: str
    plan_after: str
    rows_before: float
    rows_after: float


@dataclass
class SqliteRecommendation:
    name: str
    index: str
    create: str
    benefit: float  # calls x rows read it saves
    queries: list[SqliteQuery]


@dataclass
class SqliteSkip:
    statement: str
    reason: str


@dataclass
class SqliteReport:
    engine: str
    statements: int
    rows_before: float
    rows_after: float
    recommendations: list[SqliteRecommendation]
    skipped: list[SqliteSkip]
    reason: str
    limits: str = field(default=__doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else "")

    def render_rows(self) -> list[tuple[Any, ...]]:
        return [(r.index, len(r.queries), sum(q.calls for q in r.queries), r.queries[0].plan_before if r.queries
                 else "", r.queries[0].plan_after if r.queries else "", r.create) for r in self.recommendations]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _path(url: str) -> Path:
    path = Path(url.split("///", 1)[-1]) if "///" in url else Path("")
    if not path.is_file():
        raise AdvisorUsageError(f"no SQLite database at {path}: give --database-url sqlite:///path/to/file")
    return path


def _source(url: str) -> sqlite3.Connection:
    try:
        return sqlite3.connect(f"file:{_path(url)}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise AdvisorUnavailable(f"cannot open {url}: {exc}") from exc


def read_sqlite_catalog(conn: sqlite3.Connection) -> Catalog:
    """Tables with their row counts and columns, and every index, as the PostgreSQL catalog reads them."""
    tables: dict[str, TableInfo] = {}
    indexes: list[ExistingIndex] = []
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                        "AND name NOT LIKE 'sqlite_%'")]
    for name in names:
        cols = {r[1] for r in conn.execute(f'PRAGMA table_info("{name}")')}
        rows = conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        tables[name] = TableInfo(name, float(rows), 0, cols, 0)
        for _seq, iname, unique, origin, partial in conn.execute(f'PRAGMA index_list("{name}")'):
            info = [r for r in conn.execute(f'PRAGMA index_xinfo("{iname}")') if r[5]]
            keys = tuple((r[2] if r[2] is not None else "<expr>", bool(r[3])) for r in info)
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (iname,)).fetchone()
            definition = (sql[0] if sql and sql[0] else f"{origin} ON {name} ({', '.join(c for c, _ in keys)})")
            indexes.append(ExistingIndex(iname, name, keys, (), bool(unique), origin == "pk", True, bool(partial),
                                         "btree", 0, 0, definition.replace('"', ""), origin if origin != "c" else None,
                                         any(r[2] is None for r in info)))
    return Catalog(tables, indexes, None)


class _Memory:
    """The schema in memory with statistics measured on the real data."""

    def __init__(self, source: sqlite3.Connection, catalog: Catalog) -> None:
        self.source, self.catalog = source, catalog
        self.db = sqlite3.connect(":memory:")
        for (sql,) in source.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE "
                                     "'sqlite_%' AND type IN ('table', 'index')"):
            self.db.execute(sql)
        self.db.execute("ANALYZE")
        for name, info in catalog.tables.items():
            self.db.execute("INSERT INTO sqlite_stat1 VALUES (?, NULL, ?)", (name, str(int(info.rows))))
        for index in catalog.indexes:
            if not index.expressions:
                self._stat(index.table, index.name, index.columns)
        self.db.execute("ANALYZE sqlite_master")

    def _stat(self, table: str, name: str, columns: tuple[str, ...]) -> None:
        rows = int(self.catalog.tables[table].rows)
        per_key = []
        for n in range(1, len(columns) + 1):
            cols = ", ".join(f'"{c}"' for c in columns[:n])
            distinct = self.source.execute(f'SELECT count(*) FROM (SELECT DISTINCT {cols} FROM "{table}")').fetchone()
            per_key.append(str(max(1, round(rows / max(1, distinct[0])))))
        self.db.execute("INSERT INTO sqlite_stat1 VALUES (?, ?, ?)", (table, name, " ".join([str(rows), *per_key])))

    def add(self, candidate: Candidate, name: str) -> None:
        self.db.execute(candidate.ddl(concurrently=False, name=name))
        self._stat(candidate.table, name, candidate.columns)
        self.db.execute("ANALYZE sqlite_master")

    def drop(self, name: str) -> None:
        self.db.execute(f'DROP INDEX "{name}"')
        self.db.execute("DELETE FROM sqlite_stat1 WHERE idx = ?", (name,))
        self.db.execute("ANALYZE sqlite_master")

    def plan(self, sql: str) -> tuple[str, float]:
        sql = PARAM.sub(r"?\1", sql)
        count = max((int(n) for n in re.findall(r"\?(\d+)", sql)), default=0)
        steps = [r[3] for r in self.db.execute(f"EXPLAIN QUERY PLAN {sql}", [None] * count)]
        rows = self._rows(steps)
        limit = LIMIT.search(sql.strip().rstrip(";"))
        if limit is not None and not any("TEMP B-TREE" in s for s in steps) and len(steps) == 1:
            wanted = float(limit.group(1)) if limit.group(1).isdigit() else PAGE
            if steps[0].startswith("SCAN") and re.search(r"\bWHERE\b", sql, re.IGNORECASE):
                wanted *= FILTERED  # a scan in index order still filters rows out before it has enough
            rows = min(rows, wanted)  # the scan stops early
        return "; ".join(steps), rows

    def _rows(self, steps: list[str]) -> float:
        total, loops, last = 0.0, 1.0, 0.0
        for step in steps:
            match = STEP.match(step)
            if match is None:
                total += last if "TEMP B-TREE" in step else 0.0
                continue
            kind, table, using, index, cond = match.groups()
            rows = self.catalog.tables[table].rows if table in self.catalog.tables else 1000.0
            if kind == "SEARCH":
                rows = self._per_key(table, using, index, cond or "", rows)
            total += loops * rows
            loops, last = loops * max(rows, 1.0), rows
        return total

    def _per_key(self, table: str, using: str | None, index: str | None, cond: str, rows: float) -> float:
        if using and "PRIMARY KEY" in using and "=" in cond and ">" not in cond and "<" not in cond:
            return 1.0
        eq = cond.count("=") - cond.count(">=") - cond.count("<=")
        stat = self.db.execute("SELECT stat FROM sqlite_stat1 WHERE idx = ?", (index,)).fetchone()
        parts = [float(x) for x in stat[0].split()[1:]] if stat else []
        per = parts[eq - 1] if 0 < eq <= len(parts) else rows
        return per / 4 if any(op in cond for op in "<>") else per


def analyze_sqlite(url: str, statements: list[Statement], max_indexes: int) -> SqliteReport:
    """Indexes SQLite's planner would use for the statements, greedily by calls x rows read."""
    source = _source(url)
    try:
        catalog = read_sqlite_catalog(source)
        memory = _Memory(source, catalog)
        plans, skipped, candidates = _explain_all(memory, catalog, statements)
        chosen = _greedy(memory, plans, candidates, max_indexes)
        before = sum(s.calls * rows for s, (_p, rows) in plans)
        after = sum(s.calls * memory.plan(s.text)[1] for s, _ in plans)
    finally:
        source.close()
    reason = (f"{len(chosen)} index(es) cut the estimated rows read by {1 - after / before if before else 0:.1%} "
              f"({before:,.0f} -> {after:,.0f}); {len(skipped)} statement(s) could not be explained")
    return SqliteReport("sqlite", len(statements), before, after, chosen, skipped, reason)


def _explain_all(memory: _Memory, catalog: Catalog, statements: list[Statement]) -> tuple[
        list[tuple[Statement, tuple[str, float]]], list[SqliteSkip], set[Candidate]]:
    plans, skipped, candidates = [], [], set()
    for stmt in statements:
        try:
            plans.append((stmt, memory.plan(stmt.text)))
            found = for_shape(shape_of(stmt.text, catalog.columns_of), catalog)
            candidates |= {c for c in found if not c.include}  # SQLite has no INCLUDE
        except (sqlite3.Error, AdvisorUsageError) as exc:
            skipped.append(SqliteSkip(stmt.label, getattr(exc, "message", None) or str(exc)))
    return plans, skipped, candidates


def _greedy(memory: _Memory, plans: list[tuple[Statement, tuple[str, float]]], candidates: set[Candidate],
            max_indexes: int) -> list[SqliteRecommendation]:
    current = {id(s): p for s, p in plans}
    chosen: list[SqliteRecommendation] = []
    pool = sorted(candidates)
    while len(chosen) < max_indexes and pool:
        best: tuple[float, Candidate, list[SqliteQuery]] | None = None
        for candidate in pool:
            memory.add(candidate, "advisor_try")
            queries = []
            for stmt, _ in plans:
                plan, rows = memory.plan(stmt.text)
                before_plan, before_rows = current[id(stmt)]
                if rows < before_rows * 0.99:
                    queries.append(SqliteQuery(stmt.label, stmt.calls, before_plan, plan, before_rows, rows))
            memory.drop("advisor_try")
            gain = sum(q.calls * (q.rows_before - q.rows_after) for q in queries)
            if gain > 0 and (best is None or gain > best[0]):
                best = (gain, candidate, queries)
        if best is None:
            break
        gain, candidate, queries = best
        memory.add(candidate, candidate.name)
        for stmt, _ in plans:
            current[id(stmt)] = memory.plan(stmt.text)
        pool = [c for c in pool if c != candidate and not candidate.covers(c)]
        chosen.append(SqliteRecommendation(candidate.name, candidate.describe(),
                                           candidate.ddl(concurrently=False) + ";", gain, queries))
    return chosen


def health_sqlite(url: str) -> HealthReport:
    """Duplicate and prefix-covered indexes of a SQLite database (it counts no scans: no unused report)."""
    source = _source(url)
    try:
        catalog = read_sqlite_catalog(source)
    finally:
        source.close()
    found = duplicates(catalog)
    reason = (f"{len(found)} duplicate or prefix-covered index(es) of {len(catalog.indexes)}; SQLite keeps no "
              "index usage statistics, so no unused report")
    return HealthReport(None, len(catalog.indexes), found, [], reason)
