"""Greedy selection over a planner whose prices the test decides."""

from __future__ import annotations

from collections.abc import Callable

from advisor.candidates import Candidate
from advisor.planner import Costs, Prepared
from advisor.selection import Budget, Evaluator, choose, helpable
from advisor.shape import shape_of
from advisor.workload import Statement

A = Candidate("t", (("a", False),))
AB = Candidate("t", (("a", False), ("b", False)))
C = Candidate("t", (("c", False),))
D = Candidate("u", (("d", False),))


class FakePlanner:
    """Prices a statement by a function of the index set; sizes from a table."""

    def __init__(self, price: Callable[[str, frozenset[Candidate]], float], sizes: dict[Candidate, int]) -> None:
        self.price = price
        self.sizes = sizes
        self.calls = 0

    def costs(self, prepared: Prepared, config: frozenset[Candidate], generic: bool = True) -> Costs:
        self.calls += 1
        value = self.price(prepared.statement.text, config)
        return Costs(value * 2 if generic else None, value)

    def probe(self, prepared: Prepared, config: frozenset[Candidate], generic: bool = True) -> tuple[
            Costs, set[Candidate]]:
        costs = self.costs(prepared, config, generic)
        # the plan uses the cheapest single index of the config (what a planner picking one index would do)
        best = min(config, key=lambda c: self.price(prepared.statement.text, frozenset({c})))
        return costs, {best}

    def full_base(self, prepared: Prepared) -> Costs:
        return prepared.base

    def size_of(self, candidate: Candidate) -> int:
        return self.sizes.get(candidate, 100)


def _prepared(sql: str, calls: int, base: float) -> Prepared:
    p = Prepared(Statement(sql, calls=calls), shape_of(sql))
    p.base = Costs(base * 2, base)
    return p


Q1 = "SELECT * FROM t WHERE a = 1 AND b = 2"
Q2 = "SELECT * FROM t WHERE a = 1"
Q3 = "SELECT * FROM t WHERE c = 1"
Q4 = "SELECT * FROM u WHERE d = 1"


def _price(sql: str, config: frozenset[Candidate]) -> float:
    if sql == Q1:
        return 1.0 if AB in config else 50.0 if A in config else 1000.0
    if sql == Q2:
        return 2.0 if (A in config or AB in config) else 1000.0
    if sql == Q3:
        return 5.0 if C in config else 100.0
    return 990.0 if D in config else 1000.0


def _setup(sizes: dict[Candidate, int] | None = None) -> tuple[Evaluator, FakePlanner]:
    planner = FakePlanner(_price, sizes or {})
    prepared = [_prepared(Q1, 10, 1000.0), _prepared(Q2, 10, 1000.0), _prepared(Q3, 10, 100.0),
                _prepared(Q4, 10, 1000.0)]
    return Evaluator(planner, prepared), planner  # type: ignore[arg-type]


def test_the_wider_index_replaces_its_prefix_and_nothing_redundant_is_chosen() -> None:
    evaluator, _ = _setup()
    choice = choose(evaluator, {A, AB, C, D}, Budget(max_indexes=5, min_benefit=0.01), [0, 1, 2, 3])
    assert set(choice.chosen) == {AB, C}
    assert not any(x != y and x.covers(y) for x in choice.chosen for y in choice.chosen)
    assert any("stopped" in r for r in choice.reasons)


def test_budget_in_count_and_in_bytes() -> None:
    evaluator, _ = _setup()
    assert choose(evaluator, {A, AB, C}, Budget(max_indexes=1), [0, 1, 2]).chosen == [AB]
    evaluator, _ = _setup({AB: 10_000, A: 50, C: 50})
    chosen = choose(evaluator, {A, AB, C}, Budget(max_indexes=5, max_bytes=200), [0, 1, 2]).chosen
    assert set(chosen) == {A, C}


def test_minimum_benefit_stops_small_savings() -> None:
    evaluator, _ = _setup()
    chosen = choose(evaluator, {D}, Budget(min_benefit=0.01), [3]).chosen
    assert chosen == []  # D saves 100 of a 31,000 workload: under 1%
    assert choose(evaluator, {D}, Budget(min_benefit=0.0), [3]).chosen == [D]


def test_costs_are_cached_by_the_indexes_that_matter_to_each_statement() -> None:
    evaluator, planner = _setup()
    evaluator.costs(0, {A, D})
    evaluator.costs(0, {A})
    evaluator.costs(3, {A})  # A is on another table: the base price, no planning
    assert planner.calls == 1


def test_helpable_keeps_statements_an_index_can_make_cheaper_and_the_candidates_their_plans_use() -> None:
    evaluator, _ = _setup()
    statements, pool = helpable(evaluator, {A, AB, C, D})
    assert statements == [0, 1, 2]
    assert pool == {AB, A, C}  # Q1's favourite AB and its runner-up A; Q2 takes A or AB; Q3 takes C


def test_generic_costs_are_priced_only_when_asked() -> None:
    evaluator, _ = _setup()
    assert evaluator.costs(0, {AB}).generic is None
    assert evaluator.costs(0, {AB}, full=True).generic == 2.0
    assert evaluator.costs(0, {AB}).value == 1.0
