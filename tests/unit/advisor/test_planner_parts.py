"""The planner's pieces that need no server: parameter sets, literals, plans, costs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from advisor.candidates import Candidate
from advisor.planner import Costs, Planner, Prepared, _index_names, _literal
from advisor.shape import shape_of
from advisor.workload import Statement


class Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class FakeConn:
    """Answers the sampling queries from canned rows and records what it was asked."""

    def __init__(self, sample: list[tuple[Any, ...]], stats: list[str] | None = None) -> None:
        self.sample = sample
        self.stats = stats
        self.queries: list[str] = []

    def execute(self, query: Any, params: Any = None) -> Rows:
        text = query if isinstance(query, str) else query.as_string(None)
        self.queries.append(text)
        if "reltuples" in text:
            return Rows([(10_000.0,)])
        if "pg_stats" in text:
            return Rows([(self.stats,)] if self.stats is not None else [])
        if "TABLESAMPLE" in text or "LIMIT" in text:
            return Rows(self.sample)
        return Rows([])


def _prepared(sql: str, samples: list[list[str | None]] | None = None) -> Prepared:
    return Prepared(Statement(sql, samples=samples or []), shape_of(sql))


def test_parameter_sets_come_from_a_sampled_row_and_a_distinct_value() -> None:
    conn = FakeConn([(dt.date(2024, 5, 1), "closed")], stats=["draft", "closed", "paid"])  # columns sorted by name
    planner = Planner(conn, samples=2, limit_value=25, seed=3)
    p = _prepared("SELECT id FROM so WHERE status = $1 AND order_date >= $2 ORDER BY order_date LIMIT $3")
    sets, why = planner._param_sets(p.statement, p.shape)
    assert why == ""
    assert sets[0] == ["closed", "2024-05-01", "25"]
    assert sets[1][0] in {"draft", "closed", "paid"} and sets[1][1:] == ["2024-05-01", "25"]


def test_values_seen_in_the_log_win_over_sampling() -> None:
    conn = FakeConn([("x",)])
    p = _prepared("SELECT * FROM t WHERE a = $1", samples=[["7"], [None], ["8"]])
    sets, _ = Planner(conn, samples=2)._param_sets(p.statement, p.shape)
    assert sets == [["7"], ["8"]]
    assert conn.queries == []


def test_a_parameter_without_a_column_means_the_generic_plan_only() -> None:
    p = _prepared("SELECT * FROM t WHERE a = $1 AND $2 = 1")
    sets, why = Planner(FakeConn([])).\
        _param_sets(p.statement, p.shape)
    assert sets == [] and why == "no column for $2: priced by the generic plan only"


def test_an_empty_table_means_the_generic_plan_only() -> None:
    p = _prepared("SELECT * FROM t WHERE a = $1")
    sets, why = Planner(FakeConn([]))._param_sets(p.statement, p.shape)
    assert sets == [] and "no rows to sample" in why


def test_bounds_on_one_column_are_put_in_order() -> None:
    conn = FakeConn([(dt.date(2024, 9, 1),)])
    planner = Planner(conn, samples=1)
    p = _prepared("SELECT * FROM t WHERE d BETWEEN $1 AND $2")
    values: dict[int, Any] = {1: dt.date(2024, 9, 1), 2: dt.date(2023, 1, 1)}
    planner._order_ranges(p.shape, values)
    assert values == {1: dt.date(2023, 1, 1), 2: dt.date(2024, 9, 1)}


def test_array_parameters_get_array_literals() -> None:
    assert _literal("a\"b", array=True) == '{"a\\"b"}'
    assert _literal(5, array=False) == "5"
    assert _literal(None, array=True) is None


def test_index_names_are_found_at_any_depth_of_a_plan() -> None:
    plan = {"Node Type": "Nested Loop", "Plans": [
        {"Node Type": "Index Scan", "Index Name": "<123>btree_t_a"},
        {"Node Type": "Hash", "Plans": [{"Node Type": "Index Only Scan", "Index Name": "pk_t"}]}]}
    assert _index_names(plan) == ["<123>btree_t_a", "pk_t"]


def test_the_used_indexes_are_read_back_from_hypopg_names() -> None:
    planner = Planner(FakeConn([]))
    a, b = Candidate("t", (("a", False),)), Candidate("t", (("b", False),))
    planner.active = {a: 123, b: 1234}
    planner.last_plan = {"Index Name": "<1234>btree_t_b"}
    assert planner._used() == {b}


def test_values_are_written_into_the_statement_outside_strings() -> None:
    from psycopg import sql

    class LiteralConn(FakeConn):
        pass

    planner = Planner(LiteralConn([]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sql.Literal, "as_string", lambda self, ctx=None: repr(self._obj))
        text = planner._with_values("SELECT '$1' FROM t WHERE a = $1::bigint AND b = $10 LIMIT $2",
                                    ["5", "20"] + [None] * 7 + ["x"])
    assert text == "SELECT '$1' FROM t WHERE a = ('5')::bigint AND b = ('x') LIMIT ('20')"


def test_costs_prefer_the_sampled_price() -> None:
    assert Costs(100.0, 3.0).value == 3.0
    assert Costs(100.0, None).value == 100.0
    assert Costs(None, 4.0).value == 4.0
    with pytest.raises(AssertionError):
        _ = Costs(None, None).value


def test_touches_needs_the_leading_column_to_be_one_the_statement_uses() -> None:
    p = _prepared("SELECT * FROM t WHERE a = 1 ORDER BY b")
    assert p.touches(Candidate("t", (("a", False), ("z", False))))
    assert p.touches(Candidate("t", (("b", False),)))
    assert not p.touches(Candidate("t", (("z", False), ("a", False))))
    assert not p.touches(Candidate("u", (("a", False),)))
