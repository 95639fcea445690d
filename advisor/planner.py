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

import json
import random
from dataclasses import dataclass, field
from typing import Any

from advisor.candidates import Candidate
from advisor.errors import AdvisorUnavailable
from advisor.shape import LIMIT, OFFSET, Shape
from advisor.workload import Statement

SAMPLE_ROWS = 200


@dataclass(frozen=True)
class Costs:
    """The planner's total cost of one statement: generic plan and the mean over representative values."""

    generic: float
    sampled: float | None

    @property
    def value(self) -> float:
        return self.sampled if self.sampled is not None else self.generic


@dataclass
class Prepared:
    """A statement the planner accepted, with the parameter sets it is priced under."""

    statement: Statement
    shape: Shape
    param_sets: list[list[str | None]] = field(default_factory=list)
    why_generic_only: str = ""
    base: Costs = Costs(0.0, None)  # without any hypothetical index

    def touches(self, candidate: Candidate) -> bool:
        """The index could serve this statement: it leads with a column the statement filters, joins or sorts on."""
        use = self.shape.tables.get(candidate.table)
        return use is not None and candidate.keys[0][0] in use.indexable()


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

        try:
            self.conn.execute("SELECT hypopg_reset()")
        except psycopg.Error:
            pass
        self.active.clear()

    def prepare(self, statement: Statement, shape: Shape) -> Prepared:
        """Check the planner accepts the statement and choose its parameter sets."""
        prepared = Prepared(statement, shape)
        if shape.param_count:
            prepared.param_sets, prepared.why_generic_only = self._param_sets(statement, shape)
        prepared.base = self.costs(prepared, frozenset())
        return prepared

    def costs(self, prepared: Prepared, config: frozenset[Candidate]) -> Costs:
        """Price the statement with exactly the hypothetical indexes of `config`."""
        self._use(config)
        sql = prepared.statement.text
        if not prepared.shape.param_count:
            return Costs(self._explain(f"EXPLAIN (FORMAT JSON) {sql}"), None)
        generic = self._explain_prepared(sql, "force_generic_plan", [None] * prepared.shape.param_count)
        sampled = []
        for values in prepared.param_sets:
            try:
                sampled.append(self._explain_prepared(sql, "force_custom_plan", values))
            except Unexplainable as exc:
                prepared.param_sets, prepared.why_generic_only = [], f"sampled values refused: {exc}"
                break
        return Costs(generic, sum(sampled) / len(sampled) if sampled else None)

    def size_of(self, candidate: Candidate) -> int:
        """hypopg's estimate of the index's size in bytes."""
        if candidate not in self.sizes:
            self._use(frozenset({candidate} | set(self.active)))
            row = self.conn.execute("SELECT hypopg_relation_size(%s)", (self.active[candidate],)).fetchone()
            self.sizes[candidate] = int(row[0])
        return self.sizes[candidate]

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


def _literal(value: Any, array: bool) -> str | None:
    if value is None:
        return None
    text = str(value)
    return "{" + '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"}' if array else text


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else exc.__class__.__name__
