"""The PromQL subset: parsing, selectors, staleness, range functions, aggregation, arithmetic."""

from __future__ import annotations

import math

import pytest

from monitor.promql import ParseError, parse
from monitor.query import QueryError, check, query
from monitor.tsdb import Sample, SeriesStore


def counter_store() -> SeriesStore:
    store = SeriesStore()
    for i in range(61):
        store.add("http_requests_total", {"route": "/a", "status": "200"}, float(i), 10.0 * i)
        store.add("http_requests_total", {"route": "/a", "status": "500"}, float(i), 1.0 * i)
        store.add("http_requests_total", {"route": "/b", "status": "200"}, float(i), 5.0 * i)
    return store


def test_ratio_of_sums_by_route() -> None:
    result = query(counter_store(), 'sum by (route) (rate(http_requests_total{status=~"5.."}[1m]))'
                   " / sum by (route) (rate(http_requests_total[1m]))", 60.0)
    assert result == {(("route", "/a"),): pytest.approx(1 / 11)}


def test_rate_handles_counter_resets() -> None:
    store = SeriesStore()
    for t, v in enumerate([0, 10, 20, 5, 15]):
        store.add("c_total", {}, float(t), float(v))
    assert query(store, "increase(c_total[10s])", 4.0) == {(): 35.0}


def test_histogram_quantile_interpolates_like_prometheus() -> None:
    store = SeriesStore()
    for le, count in (("0.1", 50), ("0.5", 90), ("1", 100), ("+Inf", 100)):
        store.add("lat_bucket", {"le": le, "route": "/a"}, 0.0, float(count))
    result = query(store, "histogram_quantile(0.95, lat_bucket)", 1.0)
    assert result[(("route", "/a"),)] == pytest.approx(0.75)


def test_stale_series_disappear_from_instant_selectors() -> None:
    store = SeriesStore()
    store.ingest([Sample({"__name__": "up", "job": "a"}, 1.0), Sample({"__name__": "up", "job": "b"}, 1.0)], 0.0)
    store.ingest([Sample({"__name__": "up", "job": "a"}, 1.0)], 1.0)
    assert list(query(store, "up", 1.0)) == [(("__name__", "up"), ("job", "a"))]


def test_lookback_limits_old_samples() -> None:
    store = SeriesStore()
    store.add("g", {}, 0.0, 1.0)
    assert query(store, "g", 299.0) != {}
    assert query(store, "g", 301.0) == {}


def test_predict_linear_extrapolates() -> None:
    store = SeriesStore()
    for t in range(10):
        store.add("free", {}, float(t), 100.0 - 10 * t)
    assert query(store, "predict_linear(free[1m], 1)", 9.0)[()] == pytest.approx(0.0)


def test_scalars_vector_and_division_by_zero() -> None:
    store = SeriesStore()
    store.add("x", {"a": "1"}, 0.0, 0.0)
    assert query(store, "vector(1)", 0.0) == {(): 1.0}
    assert math.isnan(query(store, "x / x", 0.0)[(("a", "1"),)])
    assert query(store, "-x + 2 * 3", 0.0) == {(("a", "1"),): 6.0}


def test_errors_name_the_problem() -> None:
    with pytest.raises(ParseError, match="expected"):
        parse("sum(x")
    with pytest.raises(QueryError, match="range vector"):
        query(SeriesStore(), "rate(x)", 0.0)
    assert check("nope(x)") == "unknown function 'nope'"
    assert check('max without (le) (x{a!~"b"}[5m])') is None


def test_time_minus_a_timestamp_gauge() -> None:
    store = SeriesStore()
    store.add("last_success", {"site": "a"}, 0.0, 1000.0)
    assert query(store, "time() - last_success", 10) == {(("site", "a"),): -990.0}


def test_store_keeps_each_metric_only_as_long_as_rules_need() -> None:
    store = SeriesStore(by_name={"short": 0.0, "long": 3600.0})
    for t in range(0, 2000, 10):
        store.ingest([Sample({"__name__": "short"}, 1.0), Sample({"__name__": "long"}, 1.0),
                      Sample({"__name__": "other", "Zone": "a"}, 1.0)], float(t))
    lengths = {dict(k)["__name__"]: len(v) for k, v in store.series.items()}
    assert lengths == {"short": 31, "long": 200, "other": 31}
    store.ingest([], 5000.0)  # everything went stale long ago: forgotten
    store.ingest([], 5400.0)
    assert "short" not in {dict(k)["__name__"] for k in store.series}
