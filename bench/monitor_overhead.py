"""Instrumentation overhead per request and scrape time of the API's registry.

Runs the same trivial ASGI app with and without `MetricsMiddleware` (the baseline, in the same run)
and prints the added microseconds per request against the 10 us budget; then fills a registry the
size of a busy API (routes x methods x statuses, latency histograms) and times `/metrics` renders
against the 10 ms budget.

    .venv/bin/python -m bench.monitor_overhead [--requests 50000] [--routes 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from monitor.http import MetricsMiddleware, RequestMetrics


class _Route:
    def __init__(self, path: str) -> None:
        self.path = path


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    scope["route"] = _ROUTE
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})


_ROUTE = _Route("/sales-orders/{order_id}")


async def _drive(app: Any, n: int) -> float:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(message: dict[str, Any]) -> None:
        return None

    started = time.perf_counter()
    for _ in range(n):
        await app({"type": "http", "method": "GET", "path": "/sales-orders/7"}, receive, send)
    return time.perf_counter() - started


def overhead(n: int, rounds: int = 5) -> tuple[float, float]:
    """(bare seconds per request, added seconds per request), best of `rounds`."""
    instrumented = MetricsMiddleware(_app, RequestMetrics())
    bare_runs, inst_runs = [], []
    for _ in range(rounds):
        bare_runs.append(asyncio.run(_drive(_app, n)) / n)
        inst_runs.append(asyncio.run(_drive(instrumented, n)) / n)
    bare = min(bare_runs)
    return bare, min(inst_runs) - bare


def scrape(routes: int, renders: int = 200) -> tuple[float, int, int]:
    """(median seconds per render, series count, bytes) of a registry the size of a busy API."""
    metrics = RequestMetrics()
    for r in range(routes):
        for method in ("GET", "POST"):
            for status in (200, 201, 404, 422, 500):
                for i in range(3):
                    metrics.observe(method, f"/route-{r}/{{id}}", status, 0.001 * (i + 1))
    text = metrics.scrape()
    times = []
    for _ in range(renders):
        started = time.perf_counter()
        metrics.scrape()
        times.append(time.perf_counter() - started)
    series = sum(1 for line in text.splitlines() if line and not line.startswith(b"#"))
    return statistics.median(times), series, len(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--routes", type=int, default=40)
    args = parser.parse_args()
    bare, added = overhead(args.requests)
    print(f"request path: bare ASGI app {bare * 1e6:.2f} us/request (baseline), "
          f"with MetricsMiddleware +{added * 1e6:.2f} us/request "
          f"(ratio {(bare + added) / bare:.2f}x; budget 10 us: {'OK' if added < 10e-6 else 'OVER'})")
    median, series, size = scrape(args.routes)
    print(f"scrape: {series} series, {size / 1024:.0f} KiB, median {median * 1e3:.2f} ms per render "
          f"({median / 10e-3:.2f} of the 10 ms budget: {'OK' if median < 10e-3 else 'OVER'})")


if __name__ == "__main__":
    main()
