"""`install(app)`: request metrics by route template, `/metrics`, and the silences REST API.

Called by `erpcore.api.app.create_app` through the `erpops.api` entry point group. The middleware
is plain ASGI with label children cached per (method, route, status), so a request costs a few
microseconds; paths that match no route are counted under `<unmatched>`, never by raw path.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

UNMATCHED = "<unmatched>"
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class RequestMetrics:
    """The API's metric family, in its own registry so several apps (and tests) never collide."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.requests = Counter("erpops_http_requests", "HTTP requests by route template and status.",
                                ["method", "route", "status"], registry=r)
        self.latency = Histogram("erpops_http_request_duration_seconds", "HTTP request latency.",
                                 ["method", "route"], buckets=BUCKETS, registry=r)
        self.in_flight = Gauge("erpops_http_requests_in_flight", "HTTP requests being served.", registry=r)
        self.db_time = Histogram("erpops_db_query_duration_seconds", "Time in database statements.",
                                 buckets=BUCKETS, registry=r)
        self.cache = Counter("erpops_cache_requests", "Cache lookups by cache and result.",
                             ["cache", "result"], registry=r)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        pair = self._children.get(key)
        if pair is None:
            pair = self._children[key] = (self.requests.labels(method, route, str(status)),
                                          self.latency.labels(method, route))
        pair[0].inc()
        pair[1].observe(seconds)

    def scrape(self) -> bytes:
        return generate_latest(self.registry)


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

        in_flight = self.metrics.in_flight
        in_flight.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            in_flight.dec()
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


def install(app: Any) -> RequestMetrics:
    """Add the metrics middleware, `GET /metrics` and `/api/monitor/silences` to a FastAPI app."""
    from fastapi import Response

    from monitor.api import router

    metrics = RequestMetrics()
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    engine = getattr(app.state, "engine", None)
    if engine is not None:
        instrument_engine(engine, metrics)

    def metrics_endpoint() -> Response:
        return Response(metrics.scrape(), media_type=CONTENT_TYPE_LATEST)

    app.add_api_route("/metrics", metrics_endpoint, methods=["GET"], include_in_schema=False)

    app.include_router(router)
    return metrics
