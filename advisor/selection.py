"""Greedy choice of indexes over the whole workload's calls-weighted planner cost.

Each round adds the candidate that lowers the workload's cost most, given the indexes already chosen; a
candidate that covers a chosen index (same leading keys, more of them) replaces it, and a candidate a chosen
index covers is never tried. Rounds stop at the budget (count or bytes) or when the best saving is under the
minimum benefit. A last pass drops any chosen index whose own contribution fell under the minimum.
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
    worth a greedy round: those such a plan uses, and those its plan uses once they are taken away (the
    runner-up, which may serve more statements than each statement's favourite)."""
    found, pool = [], set()
    # statements on the same tables one after another: their hypothetical indexes mostly stay in place
    order = sorted(range(len(evaluator.prepared)), key=lambda i: sorted(evaluator.prepared[i].shape.tables))
    for i in order:
        p = evaluator.prepared[i]
        mine = frozenset(c for c in candidates if p.touches(c))
        if not mine:
            continue
        costs, used = evaluator.planner.probe(p, mine, generic=False)
        if costs.value >= p.base.value * (1 - min_gain):
            continue
        found.append(i)
        pool |= used
        rest = mine - used
        if rest:
            pool |= evaluator.planner.probe(p, rest, generic=False)[1]
    return sorted(found), pool


def choose(evaluator: Evaluator, candidates: set[Candidate], budget: Budget, statements: list[int],
           progress: Callable[[str], None] | None = None) -> Choice:
    """The greedy selection over `statements` (indexes into the evaluator's list)."""
    size = evaluator.planner.size_of
    base_total = sum(evaluator.weighted(i, ()) for i in statements) or 1.0
    floor = budget.min_benefit * sum(evaluator.weighted(i, ()) for i in range(len(evaluator.prepared)))
    chosen: list[Candidate] = []
    reasons: list[str] = []
    pool = sorted(c for c in candidates if any(evaluator.prepared[i].touches(c) for i in statements))
    rounds = 0
    while len(chosen) < budget.max_indexes:
        rounds += 1
        best: tuple[float, int, Candidate, list[Candidate]] | None = None
        for candidate in pool:
            if candidate in chosen or covered_by_any(candidate, chosen):
                continue
            replaced = [x for x in chosen if candidate.covers(x)]
            grown = sum(size(x) for x in chosen) + size(candidate) - sum(size(x) for x in replaced)
            if budget.max_bytes is not None and grown > budget.max_bytes:
                continue
            gain = _gain(evaluator, statements, chosen, candidate, replaced)
            if best is None or (gain, -size(candidate)) > (best[0], -size(best[2])):
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
    chosen = _prune(evaluator, statements, chosen, floor, reasons)
    return Choice(chosen, rounds, reasons)


def _gain(evaluator: Evaluator, statements: list[int], chosen: list[Candidate], candidate: Candidate,
          replaced: list[Candidate]) -> float:
    after = frozenset([x for x in chosen if x not in replaced] + [candidate])
    changed = [candidate, *replaced]
    return sum(evaluator.weighted(i, chosen) - evaluator.weighted(i, after) for i in statements
               if any(evaluator.prepared[i].touches(c) for c in changed))


def _prune(evaluator: Evaluator, statements: list[int], chosen: list[Candidate], floor: float,
           reasons: list[str]) -> list[Candidate]:
    for candidate in list(reversed(chosen)):
        without = [x for x in chosen if x != candidate]
        loss = sum(evaluator.weighted(i, without) - evaluator.weighted(i, chosen) for i in statements
                   if evaluator.prepared[i].touches(candidate))
        if loss < max(floor, 1e-9):
            chosen = without
            reasons.append(f"dropped {candidate.describe()}: with the others it saves only {loss:,.0f}")
    return chosen
