"""`install(app)`: request metrics by route template, `/metrics`, and the operations API (`monitor.api`).

`/metrics` needs a token whose role may read operations data (Prometheus sends it with
`authorization: {credentials: ...}`) unless `monitor.metrics_public` is set; every `/api/monitor` route
needs one always.

Called by `erpcore.api.app.create_app` through the `erpops.api` entry point group. The middleware
is plain ASGI with label children cached per (method, route, status), so a request costs a few
microseconds; paths that match no route are counted under `<unmatched>`, never by raw path.
"""

from __future__ import annotations

import time
from bisect import bisect_left
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    generate_latest,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "<unmatched>"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _esc(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class _Histogram:
    """Cumulative buckets rendered at scrape time; plain lists so an observation costs a bisect."""

    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)
        self.sum = 0.0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(BUCKETS, seconds)] += 1
        self.sum += seconds

    def render(self, name: str, labels: str, out: list[str]) -> None:
        sep = "," if labels else ""
        total = 0
        for bound, count in zip(BUCKETS, self.counts, strict=False):
            total += count
            out.append(f'{name}_bucket{{{labels}{sep}le="{bound}"}} {total}')
        total += self.counts[-1]
        out.append(f'{name}_bucket{{{labels}{sep}le="+Inf"}} {total}')
        out.append(f"{name}_sum{{{labels}}} {self.sum!r}" if labels else f"{name}_sum {self.sum!r}")
        out.append(f"{name}_count{{{labels}}} {total}" if labels else f"{name}_count {total}")


class RequestMetrics:
    """The API's metrics, kept in plain dicts and rendered straight to the text format on scrape.

    prometheus_client's objects cost ~7 us per scraped series here; this keeps a scrape of a busy
    API (2,000 series) within a few milliseconds. `registry` takes extra prometheus_client collectors.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.requests: dict[tuple[str, str, int], int] = {}
        self.latency: dict[tuple[str, str], _Histogram] = {}
        self.in_flight = 0
        self.db_time = _Histogram()
        self.cache: dict[tuple[str, str], int] = {}
        self.pool: Any = None  # a SQLAlchemy QueuePool, when the app has an engine

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        hist = self.latency.get((method, route))
        if hist is None:
            hist = self.latency[(method, route)] = _Histogram()
        hist.observe(seconds)

    def cache_lookup(self, cache: str, hit: bool) -> None:
        key = (cache, "hit" if hit else "miss")
        self.cache[key] = self.cache.get(key, 0) + 1

    def scrape(self) -> bytes:
        out = ["# HELP erpops_http_requests_total HTTP requests by route template and status.",
               "# TYPE erpops_http_requests_total counter"]
        for (method, route, status), count in list(self.requests.items()):
            out.append(f'erpops_http_requests_total{{method="{method}",route="{_esc(route)}",status="{status}"}} {count}')
        name = "erpops_http_request_duration_seconds"
        out += [f"# HELP {name} HTTP request latency.", f"# TYPE {name} histogram"]
        for (method, route), hist in list(self.latency.items()):
            hist.render(name, f'method="{method}",route="{_esc(route)}"', out)
        out += ["# HELP erpops_http_requests_in_flight HTTP requests being served.",
                "# TYPE erpops_http_requests_in_flight gauge", f"erpops_http_requests_in_flight {self.in_flight}"]
        name = "erpops_db_query_duration_seconds"
        out += [f"# HELP {name} Time in database statements.", f"# TYPE {name} histogram"]
        self.db_time.render(name, "", out)
        out += ["# HELP erpops_cache_requests_total Cache lookups by cache and result.",
                "# TYPE erpops_cache_requests_total counter"]
        for (cache, result), count in list(self.cache.items()):
            out.append(f'erpops_cache_requests_total{{cache="{_esc(cache)}",result="{result}"}} {count}')
        pool = self.pool
        if pool is not None and hasattr(pool, "checkedout"):
            out += ["# HELP erpops_db_pool_checked_out Connections lent out by the pool.",
                    "# TYPE erpops_db_pool_checked_out gauge", f"erpops_db_pool_checked_out {pool.checkedout()}",
                    "# HELP erpops_db_pool_size Connections the pool keeps.",
                    "# TYPE erpops_db_pool_size gauge", f"erpops_db_pool_size {pool.size()}"]
        return ("\n".join(out) + "\n").encode() + generate_latest(self.registry)


class MetricsMiddleware:
    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        metrics = self.metrics
        metrics.in_flight += 1
        try:
            await self.app(scope, receive, send_status)
        finally:
            metrics.in_flight -= 1
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)


def instrument_engine(engine: Any, metrics: RequestMetrics) -> None:
    """Time every statement of a SQLAlchemy engine into `erpops_db_query_duration_seconds`."""
    from sqlalchemy import event

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
        conn.info.setdefault("erpops_t0", []).append(time.perf_counter())

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn: Any, cursor: Any, statement: Any, params: Any, context: Any, many: Any) -> None:
        stack = conn.info.get("erpops_t0")
        if stack:
            metrics.db_time.observe(time.perf_counter() - stack.pop())


def install(app: Any, metrics_public: bool | None = None) -> RequestMetrics:
    """Add the metrics middleware, `GET /metrics` and the `/api/monitor` routes to a FastAPI app."""
    from fastapi import Depends, Response

    from monitor.access import OPERATIONS_READ, document, require
    from monitor.api import router

    if metrics_public is None:
        from monitor.settings import load_monitor_settings

        metrics_public = load_monitor_settings().metrics_public

    metrics = RequestMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        instrument_engine(engine, metrics)
        metrics.pool = engine.pool

    def metrics_endpoint() -> Response:
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST)

    # declared as a dependency, so the API's permission matrix sees (and tests) it
    guard = [] if metrics_public else [Depends(require(OPERATIONS_READ))]
    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False, dependencies=guard)

    app.include_router(router)
    document(app, router.prefix)
    return metrics
