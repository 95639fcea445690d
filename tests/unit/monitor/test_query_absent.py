"""absent(), irate(), the set operators and the Inf/NaN literals, as Prometheus evaluates them."""

from __future__ import annotations

import math

import pytest

from monitor.promql import Binary, ParseError, parse
from monitor.query import QueryError, check, query
from monitor.tsdb import SeriesStore


def backups(*sites: tuple[str, float]) -> SeriesStore:
    store = SeriesStore()
    for site, at in sites:
        store.add("backup_ts", {"site": site, "job": "backup"}, 100.0, at)
    return store


def test_absent_is_one_series_with_the_equality_labels_when_nothing_matches() -> None:
    assert query(SeriesStore(), 'absent(backup_ts{job="backup", site=~"s.*", env!="x"})', 100.0) == {
        (("job", "backup"),): 1.0}
    assert query(SeriesStore(), "absent(backup_ts)", 100.0) == {(): 1.0}


def test_absent_is_empty_when_a_series_exists() -> None:
    assert query(backups(("a", 50.0)), "absent(backup_ts)", 100.0) == {}
    assert query(backups(("a", 50.0)), 'absent(backup_ts{site="b"})', 100.0) == {(("site", "b"),): 1.0}


def test_absent_of_an_expression_has_no_labels() -> None:
    assert query(SeriesStore(), "absent(sum(backup_ts))", 100.0) == {(): 1.0}
    with pytest.raises(QueryError, match="one instant vector"):
        query(SeriesStore(), "absent(backup_ts, backup_ts)", 100.0)


def test_the_backup_rule_expression_fires_for_stale_and_for_missing_backups() -> None:
    expr = "time() - backup_ts or absent(backup_ts) * Inf"
    assert query(SeriesStore(), expr, 1000.0) == {(): math.inf}
    ages = query(backups(("a", 10.0), ("b", 90.0)), expr, 100.0)
    assert ages == {(("job", "backup"), ("site", "a")): 90.0, (("job", "backup"), ("site", "b")): 10.0}


def test_or_keeps_the_left_side_and_adds_what_it_lacks() -> None:
    store = SeriesStore()
    store.add("a", {"x": "1"}, 0.0, 1.0)
    store.add("b", {"x": "1"}, 0.0, 10.0)
    store.add("b", {"x": "2"}, 0.0, 20.0)
    assert query(store, "a or b", 1.0) == {(("__name__", "a"), ("x", "1")): 1.0,
                                           (("__name__", "b"), ("x", "2")): 20.0}
    assert query(store, "b and a", 1.0) == {(("__name__", "b"), ("x", "1")): 10.0}
    assert query(store, "b unless a", 1.0) == {(("__name__", "b"), ("x", "2")): 20.0}


def test_or_binds_looser_than_arithmetic_and_and() -> None:
    tree = parse("a + b or c and d")
    assert isinstance(tree, Binary) and tree.op == "or"
    assert isinstance(tree.left, Binary) and tree.left.op == "+"
    assert isinstance(tree.right, Binary) and tree.right.op == "and"


def test_set_operators_need_vectors() -> None:
    with pytest.raises(QueryError):
        query(SeriesStore(), "1 or vector(1)", 0.0)


def test_irate_uses_the_last_two_points_and_survives_a_reset() -> None:
    store = SeriesStore()
    for t, v in ((0.0, 0.0), (10.0, 100.0), (20.0, 110.0)):
        store.add("c_total", {}, t, v)
    assert query(store, "irate(c_total[1m])", 20.0) == {(): 1.0}
    store.add("c_total", {}, 30.0, 5.0)  # the counter restarted
    assert query(store, "irate(c_total[1m])", 30.0) == {(): 0.5}
    single = SeriesStore()
    single.add("c_total", {}, 0.0, 1.0)
    assert query(single, "irate(c_total[1m])", 0.0) == {}


def test_inf_and_nan_literals_and_unary_plus() -> None:
    assert query(SeriesStore(), "+Inf", 0.0) == {(): math.inf}
    assert query(SeriesStore(), "-inf", 0.0) == {(): -math.inf}
    assert math.isnan(query(SeriesStore(), "NaN", 0.0)[()])


def test_check_accepts_absent_and_irate_and_refuses_a_bare_set_operator() -> None:
    assert check("absent(up)") is None and check("irate(x[5m])") is None
    assert check("up or") is not None
    with pytest.raises(ParseError):
        parse("or up")


def test_a_backtracking_regex_in_a_rule_is_matched_in_linear_time() -> None:
    store = SeriesStore()
    store.add("up", {"instance": "a" * 40}, 0.0, 1.0)
    assert query(store, 'up{instance=~"(.*.*)*X"}', 1.0) == {}
    assert check('up{instance=~"(a"}') is not None
