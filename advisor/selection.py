"""Greedy choice of indexes over the whole workload's calls-weighted planner cost.

Each round adds the candidate that lowers the workload's cost most, given the indexes already chosen; a
candidate that covers a chosen index (same leading keys, more of them) replaces it, and a candidate a chosen
index covers is never tried. Rounds stop at the budget (count or bytes) or when the best saving is under the
minimum benefit. Under a byte budget the best candidate is the one that saves most per byte. A last pass
drops any chosen index whose own contribution fell under the minimum.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from advisor.candidates import Candidate, covered_by_any
from advisor.planner import Costs, Planner, Prepared


@dataclass(frozen=True)
class Budget:
    max_indexes: int = 10
    max_bytes: int | None = None
    min_benefit: float = 0.01  # fraction of the workload's cost an index must save


class Evaluator:
    """Calls-weighted costs under index sets, cached by the indexes that can matter to each statement."""

    def __init__(self, planner: Planner, prepared: list[Prepared]) -> None:
        self.planner = planner
        self.prepared = prepared
        self.cache: dict[tuple[int, frozenset[Candidate], bool], Costs] = {}
        self.floor: dict[int, float] = {}  # a statement's cost with every candidate at once: no set does better

    def costs(self, index: int, config: Iterable[Candidate], full: bool = False) -> Costs:
        """The statement's costs under `config`; the generic plan is priced too only when `full`."""
        p = self.prepared[index]
        relevant = frozenset(c for c in config if p.touches(c))
        if not relevant:
            return self.planner.full_base(p) if full else p.base
        key = (index, relevant, full)
        if key not in self.cache:
            cached = self.cache.get((index, relevant, True))
            self.cache[key] = cached if cached is not None else self.planner.costs(p, relevant, generic=full)
        return self.cache[key]

    def weighted(self, index: int, config: Iterable[Candidate]) -> float:
        return self.prepared[index].statement.calls * self.costs(index, config).value

    def total(self, config: Iterable[Candidate]) -> float:
        config = frozenset(config)
        return sum(self.weighted(i, config) for i in range(len(self.prepared)))


@dataclass
class Choice:
    chosen: list[Candidate]
    rounds: int
    reasons: list[str]


def helpable(evaluator: Evaluator, candidates: set[Candidate], min_gain: float = 0.01) -> tuple[
        list[int], set[Candidate]]:
    """Statements some candidate makes cheaper by `min_gain` when all of them exist at once, and the candidates
    worth a greedy round: those such a plan uses, those its plan uses once they are taken away (the runner-up,
    which may serve more statements than each statement's favourite), and the single-column ones it would use.

    Statements on the same tables are priced together under every candidate on those tables, so the
    hypothetical indexes are created once per group of tables, not once per statement."""
    found: list[int] = []
    pool: set[Candidate] = set()
    groups: dict[frozenset[str], list[int]] = {}
    for i, p in enumerate(evaluator.prepared):
        groups.setdefault(frozenset(p.shape.tables), []).append(i)
    for tables, members in sorted(groups.items(), key=lambda g: sorted(g[0])):
        everything = frozenset(c for c in candidates if c.table in tables)
        if not everything:
            continue
        for i in members:
            p = evaluator.prepared[i]
            costs, used = evaluator.planner.probe(p, everything, generic=False)
            evaluator.floor[i] = costs.value
            if costs.value < p.base.value * (1 - min_gain):
                found.append(i)
                pool |= used
        helped = [i for i in members if i in found]
        rest = everything - pool
        singles = frozenset(c for c in everything if len(c.keys) == 1 and not c.include)
        for config in (rest, singles):  # one set per pass: the hypothetical indexes stay in place
            for i in helped if config else []:
                pool |= evaluator.planner.probe(evaluator.prepared[i], config, generic=False)[1]
    return sorted(found), pool


def choose(evaluator: Evaluator, candidates: set[Candidate], budget: Budget, statements: list[int],
           progress: Callable[[str], None] | None = None) -> Choice:
    """The greedy selection over `statements` (indexes into the evaluator's list)."""
    size = evaluator.planner.size_of
    base_total = sum(evaluator.weighted(i, ()) for i in statements) or 1.0
    floor = budget.min_benefit * sum(evaluator.weighted(i, ()) for i in range(len(evaluator.prepared)))
    chosen: list[Candidate] = []
    reasons: list[str] = []
    touching = {c: [i for i in statements if evaluator.prepared[i].touches(c)] for c in candidates}
    pool = sorted(c for c, where in touching.items() if where)
    rounds = 0
    while len(chosen) < budget.max_indexes:
        rounds += 1
        best: tuple[float, int, Candidate, list[Candidate]] | None = None
        per_byte = budget.max_bytes is not None
        for bound, candidate in _by_bound(evaluator, touching, pool, chosen, size if per_byte else None):
            if best is not None and bound < (best[0] / max(size(best[2]), 1) if per_byte else best[0]):
                break  # no candidate left can beat the best: each saves at most down to the all-at-once cost
            if candidate in chosen or covered_by_any(candidate, chosen):
                continue
            replaced = [x for x in chosen if candidate.covers(x)]
            grown = sum(size(x) for x in chosen) + size(candidate) - sum(size(x) for x in replaced)
            if budget.max_bytes is not None and grown > budget.max_bytes:
                continue
            gain = _gain(evaluator, touching, chosen, candidate, replaced)
            if best is None or _better(budget, gain, candidate, best, size):
                best = (gain, grown, candidate, replaced)
        if best is None or best[0] < floor or best[0] <= 0:
            why = "no candidate left" if best is None else (
                f"the best next index {best[2].describe()} saves {best[0] / base_total:.1%}, under the minimum")
            reasons.append(f"stopped after {len(chosen)} index(es): {why}")
            break
        gain, _grown, candidate, replaced = best
        chosen = [x for x in chosen if x not in replaced] + [candidate]
        note = f" (replaces {', '.join(x.describe() for x in replaced)})" if replaced else ""
        reasons.append(f"round {rounds}: {candidate.describe()} saves {gain:,.0f} cost units{note}")
        if progress is not None:
            progress(reasons[-1])
    else:
        reasons.append(f"stopped at the budget of {budget.max_indexes} index(es)")
    chosen = _prune(evaluator, touching, chosen, floor, reasons)
    return Choice(chosen, rounds, reasons)


def _better(budget: Budget, gain: float, candidate: Candidate, best: tuple[float, int, Candidate, list[Candidate]],
            size: Callable[[Candidate], int]) -> bool:
    """The larger saving wins; under a byte budget the larger saving per byte (a knapsack's greedy rule)."""
    if gain <= 0:
        return False
    if budget.max_bytes is not None:
        return gain / max(size(candidate), 1) > best[0] / max(size(best[2]), 1) or best[0] <= 0
    return (gain, -size(candidate)) > (best[0], -size(best[2]))


def _by_bound(evaluator: Evaluator, touching: dict[Candidate, list[int]], pool: list[Candidate],
              chosen: list[Candidate], size: Callable[[Candidate], int] | None) -> list[tuple[float, Candidate]]:
    """Candidates by the most they could save (per byte, given `size`): down to each statement's all-at-once
    cost, calls-weighted."""
    def bound(candidate: Candidate) -> float:
        most = sum(evaluator.weighted(i, chosen) - evaluator.prepared[i].statement.calls
                   * evaluator.floor.get(i, 0.0) for i in touching[candidate])
        return most / max(size(candidate), 1) if size is not None else most
    return sorted(((bound(c), c) for c in pool), key=lambda x: -x[0])


def _gain(evaluator: Evaluator, touching: dict[Candidate, list[int]], chosen: list[Candidate],
          candidate: Candidate, replaced: list[Candidate]) -> float:
    after = frozenset([x for x in chosen if x not in replaced] + [candidate])
    affected = sorted({i for c in (candidate, *replaced) for i in touching.get(c, ())})
    return sum(evaluator.weighted(i, chosen) - evaluator.weighted(i, after) for i in affected)


def _prune(evaluator: Evaluator, touching: dict[Candidate, list[int]], chosen: list[Candidate], floor: float,
           reasons: list[str]) -> list[Candidate]:
    for candidate in list(reversed(chosen)):
        without = [x for x in chosen if x != candidate]
        loss = sum(evaluator.weighted(i, without) - evaluator.weighted(i, chosen) for i in touching[candidate])
        if loss < max(floor, 1e-9):
            chosen = without
            reasons.append(f"dropped {candidate.describe()}: with the others it saves only {loss:,.0f}")
    return chosen
