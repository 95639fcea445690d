"""`erpops advisor analyze` on PostgreSQL: from the workload to validated index recommendations.

Parse every statement, derive candidates no existing index covers, price the workload with hypothetical
indexes (generic plans and representative values), choose greedily within the budget, and explain each
recommendation: the statements it helps, their calls-weighted saving, its estimated size, the writes its
table takes, and the `CREATE INDEX CONCURRENTLY` statement.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from advisor.candidates import Candidate, for_shape
from advisor.catalog import Catalog, read_catalog
from advisor.errors import AdvisorUnavailable, AdvisorUsageError
from advisor.planner import Planner, Prepared, Unexplainable
from advisor.selection import Budget, Evaluator, choose, helpable
from advisor.shape import shape_of
from advisor.workload import Statement


@dataclass(frozen=True)
class Options:
    budget: Budget = field(default_factory=Budget)
    samples: int = 2
    limit_value: int = 20
    seed: int = 1


@dataclass
class QueryBenefit:
    statement: str
    calls: int
    cost_before: float
    cost_after: float
    generic_before: float
    generic_after: float


@dataclass
class Recommendation:
    name: str
    table: str
    index: str  # table (keys) INCLUDE (...)
    columns: list[str]
    include: list[str]
    create: str
    benefit: float  # calls-weighted planner cost it saves, with the other recommendations in place
    benefit_share: float  # of the whole workload's cost
    estimated_bytes: int
    table_rows_written: int
    workload_write_calls: int
    queries: list[QueryBenefit]
    reason: str
    candidate: Candidate = field(repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "candidate"}
        data["keys"] = [[c, d] for c, d in self.candidate.keys]
        return data


@dataclass
class Skipped:
    statement: str
    reason: str


@dataclass
class AnalyzeReport:
    statements: int
    explained: int
    candidates: int
    cost_before: float
    cost_after: float
    recommendations: list[Recommendation]
    skipped: list[Skipped]
    generic_only: list[Skipped]
    steps: list[str]
    explains: int
    elapsed_s: float
    reason: str
    verification: Any = None
    prepared: list[Prepared] = field(default_factory=list, repr=False)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k != "prepared"}
        data["recommendations"] = [r.to_json() for r in self.recommendations]
        return data


def connect(url: str) -> Any:
    """An autocommit psycopg session on a PostgreSQL URL; another engine's URL is a usage error.

    psycopg's own statement preparation is off: the planner prepares and deallocates statements itself."""
    import psycopg

    for prefix in ("postgresql+psycopg://", "postgresql+psycopg2://", "postgres://"):
        if url.startswith(prefix):
            url = "postgresql://" + url[len(prefix):]
    if not url.startswith("postgresql://"):
        scheme = url.split(":", 1)[0]
        raise AdvisorUsageError(f"hypothetical-index analysis needs a PostgreSQL URL, not {scheme}: "
                                "give --database-url postgresql://..., or a SQLite URL with --file")
    try:
        return psycopg.connect(url, autocommit=True, connect_timeout=10, prepare_threshold=None)
    except psycopg.OperationalError as exc:
        why = " ".join(str(exc).split())[:300]
        raise AdvisorUnavailable(f"cannot connect to {url.split('@')[-1]}: {why}") from exc


def analyze(conn: Any, statements: list[Statement], options: Options = Options(),
            progress: Callable[[str], None] | None = None) -> AnalyzeReport:
    """Validated index recommendations for `statements` on the connected database."""
    started = time.perf_counter()
    catalog = read_catalog(conn)
    planner = Planner(conn, options.samples, options.limit_value, options.seed)
    planner.start()
    try:
        prepared, skipped = _prepare(planner, catalog, statements)
        candidates: set[Candidate] = set()
        for p in prepared:
            candidates |= for_shape(p.shape, catalog)
        evaluator = Evaluator(planner, prepared)
        targets, pool = helpable(evaluator, candidates)
        _say(progress, f"{len(prepared)} statements explained, {len(candidates)} candidates, "
                       f"{len(targets)} statements an index could help, {len(pool)} candidates their plans use")
        choice = choose(evaluator, pool, options.budget, targets, progress)
        before = evaluator.total(())
        after = evaluator.total(choice.chosen)
        recs = [_recommend(evaluator, catalog, c, choice.chosen, before) for c in choice.chosen]
    finally:
        planner.close()
    recs.sort(key=lambda r: -r.benefit)
    generic_only = [Skipped(p.statement.label, p.why_generic_only) for p in prepared if p.why_generic_only]
    saved = (before - after) / before if before else 0.0
    reason = (f"{len(recs)} index(es) cut the workload's calls-weighted planner cost by {saved:.1%} "
              f"({before:,.0f} -> {after:,.0f}); {len(skipped)} statement(s) could not be explained")
    return AnalyzeReport(len(statements), len(prepared), len(candidates), before, after, recs, skipped,
                         generic_only, choice.reasons, planner.explains, time.perf_counter() - started, reason,
                         prepared=prepared)


def _say(progress: Callable[[str], None] | None, message: str) -> None:
    if progress is not None:
        progress(message)


def _prepare(planner: Planner, catalog: Catalog, statements: list[Statement]) -> tuple[list[Prepared], list[Skipped]]:
    prepared, skipped = [], []
    for stmt in statements:
        try:
            shape = shape_of(stmt.text, catalog.columns_of, catalog.canonical)
            prepared.append(planner.prepare(stmt, shape))
        except (AdvisorUsageError, Unexplainable) as exc:
            skipped.append(Skipped(stmt.label, getattr(exc, "message", None) or str(exc)))
    return prepared, skipped


def _recommend(evaluator: Evaluator, catalog: Catalog, candidate: Candidate, chosen: list[Candidate],
               workload: float) -> Recommendation:
    without = [x for x in chosen if x != candidate]
    queries = []
    for i, p in enumerate(evaluator.prepared):
        if not p.touches(candidate):
            continue
        before, after = evaluator.costs(i, without, full=True), evaluator.costs(i, chosen, full=True)
        if after.value < before.value * 0.999:
            queries.append(QueryBenefit(p.statement.label, p.statement.calls, round(before.value, 2),
                                        round(after.value, 2), round(before.generic or 0.0, 2),
                                        round(after.generic or 0.0, 2)))
    queries.sort(key=lambda q: -q.calls * (q.cost_before - q.cost_after))
    benefit = sum(q.calls * (q.cost_before - q.cost_after) for q in queries)
    info = catalog.tables.get(candidate.table)
    write_calls = sum(p.statement.calls for p in evaluator.prepared if candidate.table in p.shape.writes)
    size = evaluator.planner.size_of(candidate)
    reason = (f"helps {len(queries)} statement(s) ({sum(q.calls for q in queries)} calls), saving "
              f"{benefit / workload if workload else 0:.1%} of the workload's cost; {candidate.table} took "
              f"{write_calls} write call(s) in the workload")
    return Recommendation(candidate.name, candidate.table, candidate.describe(), list(candidate.columns),
                          list(candidate.include), candidate.ddl() + ";", round(benefit, 2),
                          round(benefit / workload, 4) if workload else 0.0, size,
                          info.writes if info else 0, write_calls, queries, reason, candidate)
