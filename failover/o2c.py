"""The o2c load: the real ERP API, served on the lab's multi-host URL, and client threads creating sales orders.

The API runs as its own uvicorn process (`erpcore.api.app:create_app_from_settings`, what `erpops serve`
runs per worker) with `ERPOPS_DATABASE_URL` set to the lab's libpq multi-host URL with
`target_session_attrs=read-write`: its pool drops dead connections at once (pre-ping) and reconnects to
whichever member accepts writes. The process is started in `prepare` (`opskit.proc.start_http_server`, which
waits for /healthz) and stopped by its PID in `stop`, also when the drill is interrupted.

Every attempt is one `POST /api/v1/sales-orders` with its own `Idempotency-Key` (`<run>-<client>-<seq>`):
- 201: acked, the order must exist on the new primary;
- no connection to the API (connect error or timeout): error, nothing was sent;
- sent but no answer (read timeout, reset), or a 5xx (the database failed during the request, perhaps
  during COMMIT): in doubt, resolved afterwards by the key, which erpcore marks applied in the business
  transaction itself;
- another 4xx: error (the API refused the order, nothing was written).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from failover.types import FailoverFailed, Outcome
from failover.writer import Attempt, ClientThreads
from opskit.ports import free_port
from opskit.proc import ServerProcess, start_http_server

if TYPE_CHECKING:
    from failover.drill import LoadFactory
    from failover.engines.base import HaEngine

API = "/api/v1"
START_TIMEOUT = 60.0


@dataclass
class ApiLoad:
    """The ERP API process plus `clients` threads creating one-line sales orders until stopped."""

    url: str  # the SQLAlchemy multi-host URL the API serves from
    setup_url: str  # one host (the current primary): migrations, seed data and the token are written there
    run: str
    clients: int = 4
    log: Path | None = None
    request_timeout: float = 5.0
    pause: float = 0.01
    orders: dict[tuple[int, int], int] = field(default_factory=dict)  # acked key -> sales order id
    api_pids: list[int] = field(default_factory=list)  # every API process started, for the record
    _server: ServerProcess | None = field(default=None, repr=False)
    _temp_log: Path | None = field(default=None, repr=False)
    _port: int = 0
    _token: str = ""
    _payload: dict[str, Any] = field(default_factory=dict, repr=False)
    _clients: ClientThreads = field(default_factory=ClientThreads, repr=False)  # its lock guards `orders` too

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}"

    @property
    def pid(self) -> int | None:
        return self._server.process.pid if self._server is not None else None

    def prepare(self) -> None:
        """Migrate and seed the ERP (once), issue a sales token, start the API and wait for /healthz."""
        from failover.drill import prepare_erp

        prepare_erp(self.setup_url)
        self._token, self._payload = _token_and_order(self.setup_url, self.run)
        self._port = free_port()
        argv = [sys.executable, "-m", "uvicorn", "--factory", "erpcore.api.app:create_app_from_settings",
                "--host", "127.0.0.1", "--port", str(self._port), "--no-access-log", "--log-level", "warning"]
        # Without a log of its own the API logs to a temporary file, so that a failed start names its cause.
        self._temp_log = None if self.log else Path(tempfile.mkstemp(prefix="erpops-api-", suffix=".log")[1])
        try:
            self._server = start_http_server(argv, self.base_url, self.log or self._temp_log or Path(os.devnull),
                                             env={**os.environ, "ERPOPS_DATABASE_URL": self.url},
                                             wait_s=START_TIMEOUT)
        except BaseException:
            self._drop_temp_log()
            raise
        self.api_pids.append(self._server.process.pid)

    def _drop_temp_log(self) -> None:
        log, self._temp_log = self._temp_log, None
        if log is not None:
            log.unlink(missing_ok=True)

    def start(self) -> None:
        self._clients.start(self._loop, self.clients, "o2c")

    def stop(self, timeout: float = 10) -> list[Attempt]:
        """Stop the clients, then the API process by its PID; returns every attempt, oldest first."""
        attempts = self._clients.stop(timeout)
        self._stop_api()
        return attempts

    def _stop_api(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.stop()
        self._drop_temp_log()

    def snapshot(self) -> list[Attempt]:
        return self._clients.snapshot()

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt logged so far, in the order they were logged."""
        return self._clients.snapshot()

    def committed(self, primary_url: str) -> set[tuple[int, int]]:
        """Keys whose order committed on `primary_url`: idempotency key applied, and an acked order's row there."""
        from sqlalchemy import text

        from erpcore.db import make_engine

        engine = make_engine(primary_url)
        try:
            with engine.connect() as conn:
                keys = (
                    conn.execute(
                        text("SELECT key FROM idempotency_key WHERE key LIKE :p AND status_code <> 0"),
                        {"p": f"{self.run}-%"},
                    )
                    .scalars()
                    .all()
                )
                with self._clients.lock:
                    wanted = sorted(set(self.orders.values()))
                found = (
                    set(
                        conn.execute(text("SELECT id FROM sales_order WHERE id = ANY(:ids)"), {"ids": wanted})
                        .scalars()
                        .all()
                    )
                    if wanted
                    else set()
                )
        finally:
            engine.dispose()
        applied = {parse_key(k, self.run) for k in keys}
        with self._clients.lock:
            missing = {key for key, order in self.orders.items() if order not in found}
        return {k for k in applied if k is not None} - missing

    def _record(self, attempt: Attempt, order_id: int | None = None) -> None:
        with self._clients.lock:
            self._clients.attempts.append(attempt)
            if order_id is not None:
                self.orders[(attempt.client, attempt.seq)] = order_id

    def _loop(self, client: int) -> None:
        headers = {"Authorization": f"Bearer {self._token}"}
        timeout = httpx.Timeout(self.request_timeout, connect=1.0)
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout) as http:
            seq = 0
            while not self._clients.stopping.is_set():
                seq += 1
                started = time.monotonic()
                outcome, order_id, error = classify(
                    http, f"{API}/sales-orders", self._payload, f"{self.run}-{client}-{seq}"
                )
                self._record(Attempt(client, seq, started, time.monotonic(), outcome, None, error), order_id)
                self._clients.stopping.wait(self.pause if outcome is Outcome.ACKED else 0.05)


def classify(
    http: httpx.Client, path: str, payload: dict[str, Any], key: str
) -> tuple[Outcome, int | None, str]:
    """POST one order and say what its answer proves (see the module docstring)."""
    try:
        response = http.post(path, json=payload, headers={"Idempotency-Key": key})
    except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
        return Outcome.ERROR, None, f"{type(exc).__name__}: {exc}"[:200]
    except httpx.HTTPError as exc:
        return Outcome.IN_DOUBT, None, f"{type(exc).__name__}: {exc}"[:200]
    if response.status_code == 201:
        return Outcome.ACKED, int(response.json()["id"]), ""
    text = f"HTTP {response.status_code}: {response.text[:160]}"
    return (Outcome.IN_DOUBT if response.status_code >= 500 else Outcome.ERROR), None, text


def parse_key(key: str, run: str) -> tuple[int, int] | None:
    """(client, seq) of an idempotency key `<run>-<client>-<seq>`, or None for another run's key."""
    prefix = f"{run}-"
    if not key.startswith(prefix):
        return None
    parts = key[len(prefix) :].split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None
    return int(parts[0]), int(parts[1])


def _token_and_order(url: str, run: str) -> tuple[str, dict[str, Any]]:
    """A `sales` token for this run, and a one-line order of a seeded customer and item."""
    from sqlalchemy import text

    from erpcore.access import create_token
    from erpcore.db import make_engine
    from erpcore.services.bootstrap import bootstrap

    engine = make_engine(url)
    try:
        token = create_token(bootstrap(engine), "sales", f"failover-drill-{run}")
        with engine.connect() as conn:
            customer = conn.execute(
                text("SELECT id FROM customer ORDER BY credit_limit DESC, id LIMIT 1")
            ).scalar()
            item = conn.execute(text("SELECT id FROM item ORDER BY id LIMIT 1")).scalar()
    finally:
        engine.dispose()
    if customer is None or item is None:
        raise FailoverFailed("the ERP has no customer or item to order: seeding failed")
    return token, {"customer_id": int(customer), "lines": [{"item_id": int(item), "quantity": "1"}]}


def o2c_factory(engine: HaEngine, log_dir: Path | None = None) -> LoadFactory:
    """A drill's load factory serving the ERP API on `engine`'s multi-host URL (one API process per drill)."""
    from failover.drill import primary_url, sqlalchemy_url

    def make(conninfo: str, run: str, clients: int) -> ApiLoad:
        log = log_dir / f"api-{run}.log" if log_dir is not None else None
        return ApiLoad(sqlalchemy_url(conninfo), primary_url(engine), run, clients, log=log)

    return make
