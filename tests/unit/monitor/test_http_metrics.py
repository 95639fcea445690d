"""The API's hand-rolled metrics: histogram buckets at their boundaries, the text format, and the middleware."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from monitor.http import BUCKETS, UNMATCHED, MetricsMiddleware, RequestMetrics, _esc, _Histogram


def _lines(metrics: RequestMetrics, prefix: str) -> list[str]:
    return [line for line in metrics.scrape().decode().splitlines() if line.startswith(prefix)]


def test_escape_handles_backslash_before_quote_and_newline() -> None:
    # the backslash is doubled first, so the escapes added for the quote and newline are not doubled again
    assert _esc('a\\"b\nc') == 'a\\\\\\"b\\nc'
    assert _esc("plain/route/{id}") == "plain/route/{id}"


def test_a_value_on_a_bucket_bound_counts_in_that_bucket() -> None:
    hist = _Histogram()
    hist.observe(0.005)  # exactly the first bound: le="0.005" includes it
    hist.observe(0.0051)  # just above: first counted at le="0.01"
    assert hist.counts[0] == 1 and hist.counts[1] == 1


def test_a_value_above_the_last_bound_counts_only_in_inf() -> None:
    hist = _Histogram()
    hist.observe(BUCKETS[-1] + 0.001)
    out: list[str] = []
    hist.render("h", "", out)
    assert out[len(BUCKETS) - 1] == 'h_bucket{le="10.0"} 0'
    assert out[len(BUCKETS)] == 'h_bucket{le="+Inf"} 1'


def test_buckets_render_cumulatively_with_sum_and_count() -> None:
    hist = _Histogram()
    for seconds in (0.001, 0.02, 0.02, 0.3, 20.0):
        hist.observe(seconds)
    out: list[str] = []
    hist.render("d", 'route="/x"', out)
    cumulative = {line.split('le="')[1].split('"')[0]: int(line.rsplit(" ", 1)[1]) for line in out
                  if "_bucket" in line}
    # 0.001 -> 0.005; 0.02 twice -> 0.025; 0.3 -> 0.5; 20.0 -> +Inf only
    assert cumulative["0.005"] == 1 and cumulative["0.01"] == 1
    assert cumulative["0.025"] == 3 and cumulative["0.25"] == 3
    assert cumulative["0.5"] == 4 and cumulative["10.0"] == 4
    assert cumulative["+Inf"] == 5
    assert out[-2] == f'd_sum{{route="/x"}} {0.001 + 0.02 + 0.02 + 0.3 + 20.0!r}'
    assert out[-1] == 'd_count{route="/x"} 5'


def test_an_unlabelled_histogram_renders_without_braces_on_sum_and_count() -> None:
    out: list[str] = []
    _Histogram().render("q", "", out)
    assert out[0] == 'q_bucket{le="0.005"} 0'
    assert out[-2:] == ["q_sum 0.0", "q_count 0"]


def test_requests_are_counted_per_method_route_and_status() -> None:
    metrics = RequestMetrics()
    metrics.observe("GET", "/items/{id}", 200, 0.01)
    metrics.observe("GET", "/items/{id}", 200, 0.02)
    metrics.observe("GET", "/items/{id}", 404, 0.01)
    metrics.observe("POST", "/items/{id}", 200, 0.01)
    assert metrics.requests == {("GET", "/items/{id}", 200): 2, ("GET", "/items/{id}", 404): 1,
                                ("POST", "/items/{id}", 200): 1}
    # latency is per method and route, across statuses
    assert set(metrics.latency) == {("GET", "/items/{id}"), ("POST", "/items/{id}")}
    assert sum(metrics.latency[("GET", "/items/{id}")].counts) == 3


def test_cache_lookups_count_hits_and_misses_apart() -> None:
    metrics = RequestMetrics()
    for hit in (True, False, False):
        metrics.cache_lookup("rules", hit)
    assert _lines(metrics, "erpops_cache_requests_total{") == [
        'erpops_cache_requests_total{cache="rules",result="hit"} 1',
        'erpops_cache_requests_total{cache="rules",result="miss"} 2',
    ]


def test_pool_gauges_appear_only_for_a_pool_that_reports_checkouts() -> None:
    metrics = RequestMetrics()
    assert _lines(metrics, "erpops_db_pool") == []
    metrics.pool = object()  # e.g. a NullPool/StaticPool without checkedout(): no gauges, no error
    assert _lines(metrics, "erpops_db_pool") == []

    class Pool:
        def checkedout(self) -> int:
            return 2

        def size(self) -> int:
            return 5

    metrics.pool = Pool()
    assert _lines(metrics, "erpops_db_pool") == ["erpops_db_pool_checked_out 2", "erpops_db_pool_size 5"]


def _call(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: Any) -> None:
        sent.append(dict(message))

    asyncio.run(app(scope, receive, send))
    return sent


class _Route:
    path = "/api/things/{id}"


def _responding(status: int) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
    return app


def test_middleware_counts_by_route_template_and_passes_messages_through() -> None:
    metrics = RequestMetrics()
    sent = _call(MetricsMiddleware(_responding(201), metrics),
                 {"type": "http", "method": "PUT", "path": "/api/things/7", "route": _Route()})
    assert [m["type"] for m in sent] == ["http.response.start", "http.response.body"]
    assert metrics.requests == {("PUT", "/api/things/{id}", 201): 1}
    assert metrics.in_flight == 0


def test_a_path_matching_no_route_is_counted_as_unmatched() -> None:
    metrics = RequestMetrics()
    _call(MetricsMiddleware(_responding(404), metrics), {"type": "http", "method": "GET", "path": "/nope/123"})
    assert metrics.requests == {("GET", UNMATCHED, 404): 1}


def test_an_app_that_raises_before_responding_is_counted_as_500_and_leaves_no_request_in_flight() -> None:
    async def broken(scope: Any, receive: Any, send: Any) -> None:
        raise RuntimeError("boom")

    metrics = RequestMetrics()
    with pytest.raises(RuntimeError, match="boom"):
        _call(MetricsMiddleware(broken, metrics), {"type": "http", "method": "GET", "route": _Route()})
    assert metrics.requests == {("GET", "/api/things/{id}", 500): 1}
    assert metrics.in_flight == 0


def test_in_flight_is_counted_while_the_app_runs() -> None:
    metrics = RequestMetrics()
    seen: list[int] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(metrics.in_flight)
        await _responding(200)(scope, receive, send)

    _call(MetricsMiddleware(app, metrics), {"type": "http", "method": "GET"})
    assert seen == [1] and metrics.in_flight == 0


def test_non_http_scopes_are_passed_through_uncounted() -> None:
    metrics = RequestMetrics()
    called: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        called.append(scope["type"])

    _call(MetricsMiddleware(app, metrics), {"type": "lifespan"})
    assert called == ["lifespan"] and metrics.requests == {} and metrics.latency == {}
