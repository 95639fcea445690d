"""The planner's price of a statement under a set of hypothetical indexes (hypopg), two ways.

A statement with parameters is priced as PostgreSQL's generic plan (what a prepared statement runs after five
executions) and as custom plans for representative parameter values: values seen in the log, else values of a
few rows sampled from the table each parameter is compared with (`LIMIT $n` gets a page size), because a generic
plan prices `LIMIT $n` as a tenth of the rows and misses what a sort-aware index is worth. Sets alternate between
a sampled row (values as frequent as in the data) and, for equality parameters, a distinct value drawn evenly
from the column's statistics (so the rare values worklists ask for, `status = 'draft'`, weigh too). Each pricing prepares
the statement anew: a cached generic plan would not see indexes created after it.
"""

from __future__ import annotations

import contextlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from advisor.candidates import Candidate
from advisor.errors import AdvisorUnavailable
from advisor.shape import LIMIT, OFFSET, Shape
from advisor.workload import Statement

SAMPLE_ROWS = 200
NO_DEDUP = {"numeric", "float4", "float8", "json", "jsonb", "point", "box"}


@dataclass(frozen=True)
class Costs:
    """The planner's total cost of one statement: generic plan and the mean over representative values."""

    generic: float | None  # None when only the sampled values were priced
    sampled: float | None

    @property
    def value(self) -> float:
        value = self.sampled if self.sampled is not None else self.generic
        assert value is not None, "a statement is priced one way at least"
        return value


@dataclass
class Prepared:
    """A statement the planner accepted, with the parameter sets it is priced under."""

    statement: Statement
    shape: Shape
    param_sets: list[list[str | None]] = field(default_factory=list)
    why_generic_only: str = ""
    base: Costs = Costs(0.0, None)  # without any hypothetical index
    literal_texts: dict[int, str] = field(default_factory=dict)  # parameter set -> the statement with its values

    leads: dict[str, frozenset[str]] = field(default_factory=dict)  # table -> columns an index may lead with

    def __post_init__(self) -> None:
        self.leads = {t: frozenset(use.indexable()) for t, use in self.shape.tables.items()}

    def touches(self, candidate: Candidate) -> bool:
        """The index could serve this statement: it leads with a column the statement filters, joins or sorts on."""
        leads = self.leads.get(candidate.table)
        return leads is not None and candidate.keys[0][0] in leads


class Unexplainable(Exception):
    """The planner refused the statement; its reason goes into the report."""


class Planner:
    """One session on the analyzed database; hypothetical indexes live only in it."""

    def __init__(self, conn: Any, samples: int = 2, limit_value: int = 20, seed: int = 1) -> None:
        self.conn = conn
        self.samples = samples
        self.limit_value = limit_value
        self.rng = random.Random(seed)
        self.active: dict[Candidate, int] = {}
        self.sizes: dict[Candidate, int] = {}
        self.rows: dict[tuple[str, tuple[str, ...]], list[tuple[Any, ...]]] = {}
        self.explains = 0
        self.last_plan: dict[str, Any] = {}

    def start(self) -> None:
        """Load hypopg into this database (CREATE EXTENSION) and drop leftovers of this session."""
        import psycopg

        try:
            self.conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
            self.conn.execute("SELECT hypopg_reset()")
        except psycopg.Error as exc:
            raise AdvisorUnavailable(
                "hypopg is not available on this server: install it (Debian: apt-get install "
                "postgresql-15-hypopg; scripts/ensure-advisor.sh) or analyze without validation "
                f"({str(exc).strip().splitlines()[0]})") from exc
        self.conn.execute("SET statement_timeout = '30s'")

    def close(self) -> None:
        import psycopg

        with contextlib.suppress(psycopg.Error):
            self.conn.execute("SELECT hypopg_reset()")
        self.active.clear()

    def prepare(self, statement: Statement, shape: Shape) -> Prepared:
        """Check the planner accepts the statement and choose its parameter sets."""
        prepared = Prepared(statement, shape)
        if shape.param_count:
            prepared.param_sets, prepared.why_generic_only = self._param_sets(statement, shape)
        prepared.base = self.costs(prepared, frozenset(), generic=False)
        return prepared

    def full_base(self, prepared: Prepared) -> Costs:
        """The statement's costs without hypothetical indexes, the generic plan included."""
        if prepared.base.generic is None:
            prepared.base = self.costs(prepared, frozenset(), generic=True)
        return prepared.base

    def costs(self, prepared: Prepared, config: frozenset[Candidate], generic: bool = True) -> Costs:
        """Price the statement with exactly the hypothetical indexes of `config` (the generic plan only when
        asked or when there are no parameter sets)."""
        return self.probe(prepared, config, generic)[0]

    def used(self, prepared: Prepared, config: frozenset[Candidate]) -> set[Candidate]:
        """The hypothetical indexes of `config` the statement's plan uses (first parameter set, else generic)."""
        return self.probe(prepared, config, generic=False)[1]

    def probe(self, prepared: Prepared, config: frozenset[Candidate], generic: bool = True) -> tuple[
            Costs, set[Candidate]]:
        """Costs under `config` and the hypothetical indexes the first plan priced uses.

        A custom plan is priced as the statement with its values written in: the planner folds a custom plan's
        parameters into constants the same way, and it takes one round trip instead of three."""
        self._use(config)
        sql = prepared.statement.text
        if not prepared.shape.param_count:
            return Costs(self._explain(f"EXPLAIN (FORMAT JSON) {sql}"), None), self._used()
        sampled: list[float] = []
        used: set[Candidate] | None = None
        for n, values in enumerate(list(prepared.param_sets)):
            try:
                if n not in prepared.literal_texts:
                    prepared.literal_texts[n] = self._with_values(sql, values)
                sampled.append(self._explain(f"EXPLAIN (FORMAT JSON) {prepared.literal_texts[n]}"))
            except Unexplainable as exc:
                prepared.param_sets, prepared.why_generic_only = [], f"sampled values refused: {exc}"
                sampled = []
                break
            used = self._used() if used is None else used
        generic_cost: float | None = None
        if generic or not sampled:
            generic_cost = self._explain_prepared(sql, "force_generic_plan", [None] * prepared.shape.param_count)
            used = self._used() if not sampled else used
        return Costs(generic_cost, sum(sampled) / len(sampled) if sampled else None), used or set()

    def _used(self) -> set[Candidate]:
        names = _index_names(self.last_plan)
        return {c for c, oid in self.active.items() if any(n.startswith(f"<{oid}>") for n in names)}

    def _with_values(self, sql: str, values: list[str | None]) -> str:
        from pglast.parser import scan
        from psycopg import sql as pgsql

        text, last = [], 0
        for token in scan(sql):
            if token.name == "PARAM":
                number = int(sql[token.start + 1: token.end + 1])
                literal = pgsql.Literal(values[number - 1]).as_string(self.conn)
                text += [sql[last: token.start], f"({literal})"]
                last = token.end + 1
        return "".join([*text, sql[last:]])

    def size_of(self, candidate: Candidate) -> int:
        """The index's size in bytes: hypopg's estimate, shrunk by what btree deduplication saves."""
        if candidate not in self.sizes:
            self._use(frozenset({candidate} | set(self.active)))
            row = self.conn.execute("SELECT hypopg_relation_size(%s)", (self.active[candidate],)).fetchone()
            self.sizes[candidate] = int(int(row[0]) * self._dedup_ratio(candidate))
        return self.sizes[candidate]

    def _dedup_ratio(self, candidate: Candidate) -> float:
        """hypopg sizes one entry per row; a deduplicated btree stores each distinct key once with 6-byte heap
        pointers (PostgreSQL 13+; not with INCLUDE, numeric, float or json keys)."""
        if candidate.include:
            return 1.0
        rows = self.conn.execute(
            "SELECT s.attname::text, s.n_distinct, s.avg_width, t.typname::text, c.reltuples FROM pg_stats s "
            "JOIN pg_class c ON c.oid = %s::regclass JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = "
            "s.attname JOIN pg_type t ON t.oid = a.atttypid WHERE s.attname = ANY(%s) AND to_regclass("
            "quote_ident(s.schemaname) || '.' || quote_ident(s.tablename)) = c.oid",
            (candidate.table, list(candidate.columns))).fetchall()
        if len(rows) != len(candidate.columns) or any(r[3] in NO_DEDUP for r in rows):
            return 1.0
        total = max(float(rows[0][4]), 1.0)
        groups = 1.0
        for _name, distinct, _width, _type, _rows in rows:
            groups *= -float(distinct) * total if distinct < 0 else max(float(distinct), 1.0)
        groups = min(groups, total)
        entry = sum(int(r[2]) for r in rows) + 12  # key, tuple header and line pointer
        return min(1.0, (total * 6 + groups * entry) / (total * entry))

    def _use(self, config: frozenset[Candidate]) -> None:
        for gone in [c for c in self.active if c not in config]:
            self.conn.execute("SELECT hypopg_drop_index(%s)", (self.active.pop(gone),))
        for new in config - set(self.active):
            row = self.conn.execute("SELECT indexrelid FROM hypopg_create_index(%s)",
                                    (new.hypothetical_ddl(),)).fetchone()
            self.active[new] = int(row[0])

    def _explain(self, sql: str) -> float:
        import psycopg

        self.explains += 1
        try:
            row = self.conn.execute(sql).fetchone()
        except psycopg.Error as exc:
            raise Unexplainable(_first_line(exc)) from exc
        plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
        self.last_plan = plan[0]["Plan"]
        return float(plan[0]["Plan"]["Total Cost"])

    def _explain_prepared(self, sql: str, mode: str, values: list[str | None]) -> float:
        import psycopg
        from psycopg import sql as pgsql

        try:  # one round trip: a fresh prepared statement, so no cached generic plan hides new indexes
            self.conn.execute(f"DEALLOCATE ALL; SET plan_cache_mode = {mode}; PREPARE advisor_stmt AS {sql}")
        except psycopg.Error as exc:
            raise Unexplainable(_first_line(exc)) from exc
        args = pgsql.SQL(", ").join(pgsql.Literal(v) for v in values).as_string(self.conn)
        return self._explain(f"EXPLAIN (FORMAT JSON) EXECUTE advisor_stmt({args})")

    def _param_sets(self, statement: Statement, shape: Shape) -> tuple[list[list[str | None]], str]:
        seen = [s for s in statement.samples if len(s) >= shape.param_count and None not in s]
        if seen:
            return [s[: shape.param_count] for s in seen[: self.samples]], ""
        unmapped = [n for n in range(1, shape.param_count + 1) if n not in shape.params]
        if unmapped:
            return [], f"no column for ${unmapped[0]}: priced by the generic plan only"
        sets = []
        for n in range(self.samples):
            values = self._one_set(shape, distinct=n % 2 == 1)
            if values is None:
                return [], "no rows to sample values from: priced by the generic plan only"
            sets.append(values)
        return sets, ""

    def _one_set(self, shape: Shape, distinct: bool) -> list[str | None] | None:
        by_table: dict[str, list[tuple[int, str]]] = {}
        values: dict[int, Any] = {}
        for number, (table, column) in shape.params.items():
            if column == LIMIT:
                values[number] = str(self.limit_value)
            elif column == OFFSET:
                values[number] = "0"
            else:
                by_table.setdefault(table, []).append((number, column))
        for table, params in by_table.items():
            row = self._sample_row(table, tuple(sorted({c for _, c in params})))
            if row is None:
                return None
            for number, column in params:
                values[number] = row[column]
                if distinct and number not in shape.range_params:
                    values[number] = self._distinct_value(table, column, row[column])
        self._order_ranges(shape, values)
        return [_literal(values.get(n), n in shape.array_params) for n in range(1, shape.param_count + 1)]

    def _order_ranges(self, shape: Shape, values: dict[int, Any]) -> None:
        """Bounds on one column go low to high in parameter order (`BETWEEN $1 AND $2`, `>= $1 AND < $2`)."""
        by_column: dict[tuple[str, str], list[int]] = {}
        for number in sorted(shape.range_params):
            by_column.setdefault(shape.params[number], []).append(number)
        for numbers in by_column.values():
            if len(numbers) > 1:
                picked = [values[n] for n in numbers]
                if None not in picked:
                    for n, v in zip(numbers, sorted(picked), strict=True):
                        values[n] = v

    def _sample_row(self, table: str, columns: tuple[str, ...]) -> dict[str, Any] | None:
        import psycopg
        from psycopg import sql as pgsql

        key = (table, columns)
        if key not in self.rows:
            names = pgsql.SQL(", ").join(pgsql.Identifier(c) for c in columns)
            query = pgsql.SQL("SELECT {} FROM {} TABLESAMPLE SYSTEM (%s) WHERE {} LIMIT {}").format(
                names, pgsql.SQL(table), pgsql.SQL(" AND ").join(
                    pgsql.SQL("{} IS NOT NULL").format(pgsql.Identifier(c)) for c in columns), SAMPLE_ROWS)
            try:
                rows = self.conn.execute(query, (self._percent(table),)).fetchall()
                if not rows:
                    rows = self.conn.execute(pgsql.SQL("SELECT {} FROM {} LIMIT {}").format(
                        names, pgsql.SQL(table), SAMPLE_ROWS)).fetchall()
            except psycopg.Error:
                rows = []
            self.rows[key] = rows
        rows = self.rows[key]
        if not rows:
            return None
        return dict(zip(columns, self.rng.choice(rows), strict=True))

    def _distinct_value(self, table: str, column: str, fallback: Any) -> Any:
        """A value drawn evenly from the column's most common values and histogram bounds."""
        key = (table, (column, "distinct"))
        if key not in self.rows:
            row = self.conn.execute(
                "SELECT coalesce(most_common_vals::text::text[], '{}') || coalesce(histogram_bounds::text::text[], "
                "'{}') FROM pg_stats WHERE attname = %s AND to_regclass(quote_ident(schemaname) || '.' || "
                "quote_ident(tablename)) = %s::regclass", (column, table)).fetchone()
            self.rows[key] = [(v,) for v in (row[0] if row and row[0] else [])]
        values = self.rows[key]
        return self.rng.choice(values)[0] if values else fallback

    def _percent(self, table: str) -> float:
        row = self.conn.execute("SELECT greatest(reltuples, 1) FROM pg_class WHERE oid = %s::regclass",
                                (table,)).fetchone()
        return min(100.0, max(0.01, 100.0 * 20 * SAMPLE_ROWS / float(row[0])))


def _index_names(plan: dict[str, Any]) -> list[str]:
    names = [str(plan["Index Name"])] if "Index Name" in plan else []
    for child in plan.get("Plans", []):
        names += _index_names(child)
    return names


def _literal(value: Any, array: bool) -> str | None:
    if value is None:
        return None
    text = str(value)
    return "{" + '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"}' if array else text


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__
