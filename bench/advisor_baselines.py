"""Re-implementations of two published index advisors' documented rules, on the advisor's own hypopg planner.

- index_advisor (Supabase): for each query on its own, hypothetical single-column btree indexes on the columns
  it uses; the recommendation is the indexes the resulting plan uses; the workload's answer is their union.
- Dexter: for each query, hypothetical indexes on its single columns, then on ordered pairs of them (at most two
  columns); the cheapest plan's hypothetical indexes are suggested when they save at least 50% of the query's
  cost; the workload's answer is their union.

Both see the same parsed statements, the same parameter sets and the same planner as the advisor, so the
comparison is of the selection rules, not of the plumbing. No code of either project is used.
"""

from __future__ import annotations

from itertools import permutations

from advisor.candidates import Candidate, existing_covers
from advisor.catalog import Catalog
from advisor.planner import Planner, Prepared

DEXTER_MIN_SAVING = 0.5


def _columns(prepared: Prepared, catalog: Catalog) -> dict[str, list[str]]:
    """The columns a query filters, joins or sorts on, per table (what both tools index)."""
    found: dict[str, list[str]] = {}
    for use in prepared.shape.tables.values():
        info = catalog.tables.get(use.table)
        cols = sorted(c for c in use.indexable() if info is not None and c in info.columns)
        if cols:
            found[use.table] = cols
    return found


def _new(candidates: set[Candidate], catalog: Catalog) -> set[Candidate]:
    return {c for c in candidates if not any(existing_covers(i, c) for i in catalog.indexes_on(c.table))}


def index_advisor_style(planner: Planner, prepared: list[Prepared], catalog: Catalog) -> list[Candidate]:
    """Per-query single-column answers, unioned."""
    chosen: set[Candidate] = set()
    for p in prepared:
        singles = _new({Candidate(t, ((c, False),)) for t, cols in _columns(p, catalog).items() for c in cols},
                       catalog)
        if singles:
            chosen |= planner.used(p, frozenset(singles))
    return sorted(chosen)


def dexter_style(planner: Planner, prepared: list[Prepared], catalog: Catalog) -> list[Candidate]:
    """Per-query best of single and two-column hypothetical indexes, kept when they halve its cost; unioned."""
    chosen: set[Candidate] = set()
    for p in prepared:
        columns = _columns(p, catalog)
        singles = _new({Candidate(t, ((c, False),)) for t, cols in columns.items() for c in cols}, catalog)
        pairs = _new({Candidate(t, ((a, False), (b, False))) for t, cols in columns.items()
                      for a, b in permutations(cols, 2)}, catalog)
        best_cost, best_used = p.base.value, set()
        for config in (frozenset(singles), frozenset(singles | pairs)):
            if not config:
                continue
            cost = planner.costs(p, config).value
            if cost < best_cost:
                best_cost, best_used = cost, planner.used(p, config)
        if best_used and best_cost <= p.base.value * (1 - DEXTER_MIN_SAVING):
            chosen |= best_used
    return sorted(chosen)
