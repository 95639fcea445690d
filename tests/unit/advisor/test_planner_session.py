"""The planner's session work over a scripted connection: hypopg setup, the set of hypothetical indexes,
EXPLAIN parsing, and index sizes shrunk by btree deduplication."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from advisor.candidates import Candidate
from advisor.errors import AdvisorUnavailable
from advisor.planner import Planner, Prepared, Unexplainable
from advisor.shape import shape_of
from advisor.workload import Statement

STATUS = Candidate("orders", (("status", False),))
PAIR = Candidate("orders", (("customer_id", False), ("status", False)))


class Rows:
    def __init__(self, rows: list[tuple[Any, ...]]) -> None:
        self.rows = rows

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None


class Script:
    """Answers each statement by the first (substring, answer) that matches; an exception answer is raised."""

    def __init__(self, *answers: tuple[str, Any]) -> None:
        self.answers = list(answers)
        self.sent: list[tuple[str, Any]] = []

    def execute(self, sql: str, params: Any = None) -> Rows:
        self.sent.append((sql, params))
        for key, answer in self.answers:
            if key in sql:
                if isinstance(answer, Exception):
                    raise answer
                return Rows(answer)
        return Rows([])

    def count(self, key: str) -> int:
        return sum(key in sql for sql, _ in self.sent)


def _stats(*cols: tuple[str, float, int, str], reltuples: float = 1000.0) -> Script:
    return Script(("pg_stats", [(name, nd, width, typ, reltuples) for name, nd, width, typ in cols]))


def test_dedup_ratio_of_a_low_cardinality_key() -> None:
    # 1000 rows, 3 keys of 8 bytes: (1000 * 6 + 3 * (8 + 12)) / (1000 * (8 + 12)) = 6060 / 20000
    planner = Planner(_stats(("status", 3.0, 8, "text")))
    assert planner._dedup_ratio(STATUS) == pytest.approx(0.303)


def test_a_negative_n_distinct_is_a_fraction_of_the_rows() -> None:
    # -0.5 of 1000 rows = 500 groups: (6000 + 500 * 20) / 20000
    planner = Planner(_stats(("status", -0.5, 8, "text")))
    assert planner._dedup_ratio(STATUS) == pytest.approx(0.8)


def test_a_unique_key_saves_nothing() -> None:
    planner = Planner(_stats(("status", -1.0, 8, "text")))  # every row its own group: (6000 + 20000) / 20000 > 1
    assert planner._dedup_ratio(STATUS) == 1.0


def test_groups_of_a_composite_key_multiply() -> None:
    # 10 x 20 = 200 groups, entry 4 + 8 + 12 = 24 bytes: (6000 + 200 * 24) / 24000
    planner = Planner(_stats(("customer_id", 10.0, 4, "int4"), ("status", 20.0, 8, "text")))
    assert planner._dedup_ratio(PAIR) == pytest.approx(0.45)


@pytest.mark.parametrize("typ", ["numeric", "float8", "jsonb"])
def test_types_btree_does_not_deduplicate_keep_the_full_size(typ: str) -> None:
    planner = Planner(_stats(("customer_id", 10.0, 4, "int4"), ("status", 2.0, 8, typ)))
    assert planner._dedup_ratio(PAIR) == 1.0


def test_a_key_without_statistics_keeps_the_full_size() -> None:
    planner = Planner(_stats(("customer_id", 10.0, 4, "int4")))  # no pg_stats row for status
    assert planner._dedup_ratio(PAIR) == 1.0


def test_an_index_with_include_columns_is_not_deduplicated_and_asks_nothing() -> None:
    conn = _stats(("status", 3.0, 8, "text"))
    assert Planner(conn)._dedup_ratio(Candidate("orders", (("status", False),), ("total",))) == 1.0
    assert conn.sent == []


def test_an_empty_table_counts_as_one_row() -> None:
    # reltuples 0 -> total 1, groups min(3, 1) = 1: (6 + 20) / 20 > 1
    assert Planner(_stats(("status", 3.0, 8, "text"), reltuples=0.0))._dedup_ratio(STATUS) == 1.0


def test_size_is_hypopgs_estimate_times_the_dedup_ratio_and_is_asked_once() -> None:
    conn = Script(("hypopg_create_index", [(9001,)]), ("hypopg_relation_size", [(100_000,)]),
                  ("pg_stats", [("status", 3.0, 8, "text", 1000.0)]))
    planner = Planner(conn)
    assert planner.size_of(STATUS) == 30_300  # int(100000 * 0.303)
    assert planner.size_of(STATUS) == 30_300
    assert conn.count("hypopg_relation_size") == 1 and conn.sent[1][1] == (9001,)
    assert planner.active == {STATUS: 9001}


def test_switching_configurations_drops_and_creates_only_the_difference() -> None:
    conn = Script(("hypopg_create_index", [(7,)]))
    planner = Planner(conn)
    planner._use(frozenset({STATUS}))
    planner._use(frozenset({STATUS}))  # unchanged: nothing sent
    assert [p for _, p in conn.sent] == [("CREATE INDEX ON orders (status)",)]
    planner._use(frozenset({PAIR}))
    assert conn.sent[1] == ("SELECT hypopg_drop_index(%s)", (7,))
    assert conn.sent[2][1] == ("CREATE INDEX ON orders (customer_id, status)",)
    assert set(planner.active) == {PAIR}


def _plan(cost: float, index: str | None = None) -> list[dict[str, Any]]:
    node: dict[str, Any] = {"Node Type": "Seq Scan", "Total Cost": cost}
    if index:
        node = {"Node Type": "Limit", "Total Cost": cost, "Plans": [{"Node Type": "Index Scan", "Index Name": index}]}
    return [{"Plan": node}]


def test_explain_reads_the_total_cost_from_json_text_or_parsed_json() -> None:
    planner = Planner(Script(("EXPLAIN", [(json.dumps(_plan(12.5)),)])))
    assert planner._explain("EXPLAIN (FORMAT JSON) SELECT 1") == 12.5
    planner = Planner(Script(("EXPLAIN", [(_plan(3.25),)])))
    assert planner._explain("EXPLAIN (FORMAT JSON) SELECT 1") == 3.25
    assert planner.explains == 1 and planner.last_plan["Total Cost"] == 3.25


def test_a_refused_explain_is_unexplainable_with_the_first_line_of_the_error() -> None:
    planner = Planner(Script(("EXPLAIN", psycopg.errors.UndefinedColumn('column "x" does not exist\nLINE 1: ...'))))
    with pytest.raises(Unexplainable, match='^column "x" does not exist$'):
        planner._explain("EXPLAIN (FORMAT JSON) SELECT x FROM orders")
    assert planner.explains == 1


class Oids(Script):
    """Gives each hypothetical index its own oid, from 41 up."""

    def execute(self, sql: str, params: Any = None) -> Rows:
        if "hypopg_create_index" in sql:
            self.sent.append((sql, params))
            return Rows([(41 + self.count("hypopg_create_index"),)])
        return super().execute(sql, params)


@pytest.mark.parametrize(("index", "oid"), [("<42>btree_orders", 42), ("<43>btree_orders", 43),
                                            ("orders_pkey", None), ("<4>btree_orders", None)])
def test_a_statement_without_parameters_is_priced_once_with_the_indexes_its_plan_uses(
        index: str, oid: int | None) -> None:
    conn = Oids(("EXPLAIN", [(_plan(8.0, index),)]))
    planner = Planner(conn)
    sql = "SELECT id FROM orders WHERE status = 'draft'"
    costs, used = planner.probe(Prepared(Statement(sql), shape_of(sql)), frozenset({STATUS, PAIR}))
    assert (costs.generic, costs.sampled, costs.value) == (8.0, None, 8.0)
    assert {planner.active[c] for c in (STATUS, PAIR)} == {42, 43}
    # creation order is a set's: map the oid back to the candidate it was given to; "<4>" must not match 42
    assert used == {c for c, o in planner.active.items() if o == oid}
    assert len(used) == (oid is not None)
    assert conn.count("EXPLAIN") == 1


def test_start_explains_how_to_get_hypopg_when_it_is_missing() -> None:
    conn = Script(("CREATE EXTENSION", psycopg.errors.FeatureNotSupported(
        'extension "hypopg" is not available\nDETAIL: Could not open extension control file')))
    with pytest.raises(AdvisorUnavailable) as raised:
        Planner(conn).start()
    message = raised.value.message
    assert message.startswith("hypopg is not available on this server: install it")
    assert message.endswith('(extension "hypopg" is not available)')
    assert conn.count("statement_timeout") == 0


def test_start_resets_leftovers_and_bounds_each_statement() -> None:
    conn = Script()
    Planner(conn).start()
    assert [sql for sql, _ in conn.sent] == ["CREATE EXTENSION IF NOT EXISTS hypopg", "SELECT hypopg_reset()",
                                             "SET statement_timeout = '30s'"]


def test_close_forgets_the_hypothetical_indexes_even_when_the_reset_fails() -> None:
    planner = Planner(Script(("hypopg_reset", psycopg.OperationalError("connection lost"))))
    planner.active = {STATUS: 1}
    planner.close()
    assert planner.active == {}
