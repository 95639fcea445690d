"""`create_app`: the ERP core's HTTP API, under `/api/v1`, for an engine or an already wired ERP."""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from sqlalchemy import Engine, text

from erpcore.api import (
    docs,
    errors,
    openapi,
    routes_master,
    routes_payroll,
    routes_production,
    routes_purchasing,
    routes_reports,
    routes_returns,
    routes_rules,
    routes_sales,
)
from erpcore.api.gate import RequestGate
from erpcore.api.idempotency import IdempotencyMiddleware
from erpcore.services.bootstrap import Erp, bootstrap

PREFIX = "/api/v1"
API_ROOT = "/api/"  # the ERP's routes (PREFIX) and those the `erpops.api` plugins mount
PLUGIN_GROUP = "erpops.api"
log = logging.getLogger("erpcore.api")

DESCRIPTION = """Master data, order to cash, procure to pay and the foundation reports of erpops.

Authenticate with `Authorization: Bearer <token>` (`erpops token create --role ROLE --name NAME`).
Errors are `application/problem+json`. Every POST accepts an `Idempotency-Key` header: a retry with the
same key, token and body returns the first response (or, if that was lost after the write, the document it
wrote) and writes nothing twice; keys are kept `api.idempotency_window_hours`. Bodies over `api.max_body_bytes`
get 413 unread, and a body is read only once its bearer token is known.
"""


def create_app(target: Engine | Erp) -> FastAPI:
    """Build the API for `target`, then let every `erpops.api` entry point extend it."""
    erp = target if isinstance(target, Erp) else bootstrap(target)
    app = FastAPI(title="erpops ERP API", version="1", description=DESCRIPTION,
                  openapi_url=f"{PREFIX}/openapi.json", docs_url=None, redoc_url=None)
    docs.install(app, f"{PREFIX}/docs", f"{PREFIX}/openapi.json", assets_url=f"{PREFIX}/docs-assets")
    app.state.erp = erp
    app.state.engine = erp.engine
    errors.install(app)
    _install_request_middleware(app, erp)
    for module in (routes_master, routes_sales, routes_purchasing, routes_reports, routes_production,
                   routes_returns, routes_rules):
        app.include_router(module.router, prefix=PREFIX)
    app.include_router(routes_reports.periods_router, prefix=PREFIX)
    app.include_router(routes_payroll.router, prefix=PREFIX)
    app.add_api_route("/healthz", _healthz(erp), methods=["GET"], tags=["health"])
    _document_idempotency(app)
    openapi.document_problems(app, PREFIX)
    load_plugins(app)
    return app


def _install_request_middleware(app: FastAPI, erp: Erp) -> None:
    """The request gate (size limit, token before body) outside the idempotency middleware."""
    api = erp.settings.api
    window = dt.timedelta(hours=api.idempotency_window_hours)
    app.add_middleware(IdempotencyMiddleware, engine=erp.engine, window=window)
    # every route under /api/, the tools' plugins (`/api/monitor`) as much as the ERP's: all take tokens
    app.add_middleware(RequestGate, engine=erp.engine, max_body_bytes=api.max_body_bytes, prefix=API_ROOT)


# Requests a server process runs at once (anyio's thread limiter, FIFO); the rest queue in arrival order.
# On a CPU-bound server more threads only add GIL hand-offs and longer row-lock convoys: at 50 clients the
# p99 latency came from requests that lost the race for a stock balance many times over.
WORKER_THREADS = 4


class ThreadLimited:
    """ASGI wrapper setting the server loop's thread limiter on its first call (lifespan or request)."""

    def __init__(self, app: Any, threads: int = WORKER_THREADS) -> None:
        self.app = app
        self.threads = threads
        self._set = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if not self._set:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = self.threads
            self._set = True
        await self.app(scope, receive, send)


def serving(app: FastAPI) -> ThreadLimited:
    """`app` as a server process runs it: a short GIL switch interval and a bounded thread pool."""
    import sys

    # A request is a dozen short round trips; a thread woken by the database waits for the GIL up to the
    # switch interval (5 ms by default) each time, and meanwhile holds its row locks. Hand over sooner.
    sys.setswitchinterval(0.0005)
    return ThreadLimited(app)


def create_app_from_settings() -> ThreadLimited:
    """The API over the configured database: the factory each `erpops serve --workers N` process calls."""
    from erpcore.db import make_engine

    return serving(create_app(make_engine()))


IDEMPOTENCY_PARAMETER = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "schema": {"type": "string", "maxLength": 200},
    "description": "Retries with the same key, token and body return the first response and write nothing twice.",
}


def _document_idempotency(app: FastAPI) -> None:
    """Show the `Idempotency-Key` header (handled by middleware, not by routes) on every POST in OpenAPI."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for path in schema.get("paths", {}).values():
                if "post" in path:
                    path["post"].setdefault("parameters", []).append(IDEMPOTENCY_PARAMETER)
        return app.openapi_schema or build()

    app.openapi = openapi  # type: ignore[method-assign]


def _healthz(erp: Erp) -> Callable[[], dict[str, str]]:
    def healthz() -> dict[str, str]:
        """Liveness and database reachability."""
        with erp.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return {"status": "ok", "database": erp.engine.dialect.name}

    return healthz


def load_plugins(app: FastAPI) -> list[str]:
    """Call each `erpops.api` entry point with the app (tools add middleware and routes)."""
    loaded = []
    for entry in importlib.metadata.entry_points(group=PLUGIN_GROUP):
        entry.load()(app)
        loaded.append(entry.name)
        log.info("API plugin %s installed", entry.name)
    return loaded
