"""Estimated against measured improvement, and when they disagree."""

from __future__ import annotations

import math
from types import SimpleNamespace

import psycopg
import pytest

from advisor.errors import AdvisorUnavailable
from advisor.verify import _check
from advisor.workload import read_stat_statements


def _rec(queries: list[tuple[str, int, float, float]]) -> SimpleNamespace:
    return SimpleNamespace(name="ix_t_a", estimated_bytes=4 * 2**20, queries=[
        SimpleNamespace(statement=s, calls=c, cost_before=b, cost_after=a) for s, c, b, a in queries])


def test_agreement_within_two_times_is_not_flagged() -> None:
    rec = _rec([("q1", 10, 100.0, 10.0), ("q2", 10, 50.0, 5.0)])
    check = _check(rec, {"q1": 8.0, "q2": 4.0}, {"q1": 1.0, "q2": 0.5}, (0.4, 2**20))
    assert (check.estimated_speedup, check.measured_speedup) == (10.0, 8.0)
    assert not check.disagrees
    assert check.real_bytes == 2**20 and check.estimated_bytes == 4 * 2**20
    assert check.reason.startswith("2 statement(s) measured: 120.00 -> 15.00 ms")


def test_more_than_two_times_apart_is_flagged_either_way() -> None:
    rec = _rec([("q1", 1, 100.0, 50.0)])  # the planner expects 2x
    faster = _check(rec, {"q1": 10.0}, {"q1": 0.5}, (0.1, 1))  # measured 20x
    assert faster.disagrees and "the estimate is 10.0x off" in faster.reason
    slower = _check(_rec([("q1", 1, 100.0, 1.0)]), {"q1": 10.0}, {"q1": 5.0}, (0.1, 1))  # 100x vs 2x
    assert slower.disagrees


def test_statements_that_could_not_be_measured_are_left_out() -> None:
    rec = _rec([("q1", 5, 100.0, 10.0), ("q2", 5, 100.0, 10.0)])
    check = _check(rec, {"q1": math.nan, "q2": 6.0}, {"q1": math.nan, "q2": 3.0}, (0.1, 1))
    assert check.measured_speedup == 2.0 and check.reason.startswith("1 statement(s) measured")
    nothing = _check(_rec([("q1", 5, 100.0, 10.0)]), {}, {}, (0.1, 1))
    assert not nothing.disagrees and "no statement could be measured" in nothing.reason


def test_pg_stat_statements_missing_is_one_unavailable_error() -> None:
    class NoExtension:
        rolled_back = False

        def execute(self, sql: str) -> None:
            raise psycopg.errors.UndefinedTable('relation "pg_stat_statements" does not exist')

        def rollback(self) -> None:
            self.rolled_back = True

    conn = NoExtension()
    with pytest.raises(AdvisorUnavailable, match="shared_preload_libraries, or give a statement file with --file"):
        read_stat_statements(conn)
    assert conn.rolled_back
