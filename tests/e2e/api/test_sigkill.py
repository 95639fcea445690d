"""SIGKILL trials: the API as a real process on PostgreSQL, killed at random moments while clients post documents.

Clients run purchase chains (create, approve, receive) and sales chains (create, approve, ship, invoice), each
step with its own Idempotency-Key, and retry every step with the same key and body until it is answered
(connection refused or cut, 5xx, or the key still in flight). The server is SIGKILLed at least five times, each
at a random moment while requests are in flight, and restarted. Then, in this process: every key has exactly
one result, each document type's count equals its distinct keys, no header lacks its lines, and every
invariant of `erpcore.check` holds (no half-written document, journal entry or stock move).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from erpcore.access import create_token
from erpcore.check import run_check
from erpcore.migrate import scratch_schema
from erpcore.models import CustomerInvoice, GoodsReceipt, PurchaseOrder, SalesOrder, Shipment
from erpcore.services.bootstrap import bootstrap
from opskit.ports import free_port
from opskit.proc import ServerProcess, answers, start_http_server
from tests.dbhelpers import pg_url
from tests.factories import make_world, stock_up

ROOT = Path(__file__).resolve().parents[3]
V1 = "/api/v1"
TRIALS = int(os.environ.get("ERPOPS_SIGKILL_TRIALS", "5"))
CLIENTS = 4
BUDGET_S = 120.0  # a hard stop for the whole run, far above what it takes


@dataclass
class Ledger:
    """What the clients saw: the document id of every answer per key, the keys per step, the cut requests."""

    answers: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    keys: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    cut: int = 0
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


# Replacement servers come from a zygote: a process that imported the API once (seconds of CPU on a busy
# machine) and forks a child per line on stdin; the child binds the port and serves exactly as
# `erpops serve --workers 1` does (`serve_on`). The zygote holds no database connection and no thread.
ZYGOTE = """
import os, signal, sys
import monitor.http, uvicorn
from erpcore.api import app
from erpcore.cli_api import listening_socket, serve_on
from erpcore.config import load_settings
from erpcore.migrate import head
head()
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # killed children are reaped by the kernel
print("ready", flush=True)
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.dup2(2, 1)
        serve_on(listening_socket("127.0.0.1", int(sys.argv[1])), load_settings(), workers=1, access_log=False)
        os._exit(0)
    print(pid, flush=True)
"""


class Server:
    """The API as a real process on a fixed port: first `erpops serve --workers 1` (one process, so SIGKILL takes
    all of it), then each replacement forked by the zygote once the killed one is gone."""

    def __init__(self, database_url: str, tmp: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_DATABASE_URL": database_url, "ERPOPS_CONFIG": "",
                    "PYTHONUNBUFFERED": "1"}
        self.tmp = tmp
        self.first: ServerProcess | None = None
        self.pid: int | None = None
        self.start_times: list[float] = []
        self.zygote_log = (tmp / "zygote.log").open("wb")
        self.zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE, str(self.port)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=self.zygote_log, env=self.env, text=True)

    def start(self) -> None:
        began = time.monotonic()
        argv = [sys.executable, "-m", "erpops", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--workers", "1", "--no-access-log"]
        self.first = start_http_server(argv, self.url, self.tmp / "api.log", env=self.env)
        self.pid = self.first.process.pid
        self.start_times.append(round(time.monotonic() - began, 2))
        assert self.zygote.stdout is not None and self.zygote.stdout.readline().strip() == "ready"

    def kill_and_replace(self) -> None:
        """SIGKILL the serving process (no clean-up, no flush, no goodbye) and fork a replacement."""
        assert self.pid is not None and self.zygote.stdin is not None and self.zygote.stdout is not None
        os.kill(self.pid, signal.SIGKILL)
        if self.first is not None:
            self.first.process.wait(10)
            self.first.stop()
            self.first = None
        else:
            while _alive(self.pid):
                time.sleep(0.01)
        began = time.monotonic()
        self.zygote.stdin.write("go\n")
        self.zygote.stdin.flush()
        self.pid = int(self.zygote.stdout.readline())
        while not answers(self.url + "/healthz", timeout=1.0):
            if not _alive(self.pid) or time.monotonic() - began > 60:
                raise AssertionError(f"the replacement server did not come up: see {self.tmp}")
            time.sleep(0.02)
        self.start_times.append(round(time.monotonic() - began, 2))

    def stop(self) -> None:
        if self.first is not None:
            self.first.stop()
        elif self.pid is not None and _alive(self.pid):
            os.kill(self.pid, signal.SIGTERM)
            deadline = time.monotonic() + 10
            while _alive(self.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            if _alive(self.pid):
                os.kill(self.pid, signal.SIGKILL)
        if self.zygote.stdin is not None:
            self.zygote.stdin.close()  # the zygote's loop ends
        try:
            self.zygote.wait(10)
        except subprocess.TimeoutExpired:
            self.zygote.kill()
            self.zygote.wait(10)
        if self.zygote.stdout is not None:
            self.zygote.stdout.close()
        self.zygote_log.close()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def database() -> Iterator[tuple[Engine, str]]:
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432")
    with scratch_schema(url, "kill") as (engine, schema):
        separator = "&" if "?" in url else "?"
        yield engine, f"{url}{separator}options=-csearch_path%3D{schema}"


class Clients:
    """Threads posting chains of steps until told to stop; every step retried with its key until answered."""

    def __init__(self, base: str, token: str, world: dict[str, int], ledger: Ledger, deadline: float) -> None:
        self.base, self.world, self.ledger, self.deadline = base, world, ledger, deadline
        self.headers = {"Authorization": f"Bearer {token}"}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._work, args=(n,), daemon=True) for n in range(CLIENTS)]
        self.errors: list[BaseException] = []

    def __enter__(self) -> Clients:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(60)

    def _work(self, n: int) -> None:
        rng = random.Random(n)
        try:
            with httpx.Client(base_url=self.base + V1, headers=self.headers, timeout=15.0) as client:
                while not self.stop.is_set():
                    (self._purchase if rng.random() < 0.4 else self._sale)(client, rng)
        except BaseException as exc:
            self.errors.append(exc)

    def _purchase(self, client: httpx.Client, rng: random.Random) -> None:
        w = self.world
        po = self._step(client, "purchase_order", "/purchase-orders", {"supplier_id": w["supplier_id"], "lines": [
            {"item_id": w["item_id"], "quantity": str(rng.randint(1, 5)), "unit_price": "6.00"}]})
        self._step(client, "approve_po", f"/purchase-orders/{po}/approve", None)
        self._step(client, "goods_receipt", f"/purchase-orders/{po}/receive", None)

    def _sale(self, client: httpx.Client, rng: random.Random) -> None:
        w = self.world
        so = self._step(client, "sales_order", "/sales-orders", {"customer_id": w["customer_id"], "lines": [
            {"item_id": w["item_id"], "quantity": str(rng.randint(1, 3))}]})
        self._step(client, "approve_so", f"/sales-orders/{so}/approve", None)
        self._step(client, "shipment", f"/sales-orders/{so}/ship", None)
        self._step(client, "customer_invoice", f"/sales-orders/{so}/invoice", None)

    def _step(self, client: httpx.Client, kind: str, path: str, body: Any) -> int:
        key = f"{kind}-{uuid.uuid4().hex[:12]}"
        with self.ledger.lock:
            self.ledger.keys[kind].append(key)
        doc_id = self._answer(client, kind, path, body, key)
        if kind not in ("approve_po", "approve_so"):
            # once more with the same key: a retry gets the same document back (a replay), never a second one
            self._answer(client, kind, path, body, key)
        return doc_id

    def _answer(self, client: httpx.Client, kind: str, path: str, body: Any, key: str) -> int:
        """POST until answered (refused or cut by a kill, 5xx, or the key in flight: again, same key and body)."""
        first, last = True, "nothing"
        while time.monotonic() < self.deadline:
            try:
                response = client.post(path, json=body, headers={"Idempotency-Key": key})
            except httpx.TransportError as exc:
                last = type(exc).__name__
                with self.ledger.lock:
                    self.ledger.cut += first
                first = False
                time.sleep(0.05)
                continue
            first = False
            in_flight = response.status_code == 409 and response.json().get("code") == "idempotency_key_in_flight"
            if response.status_code >= 500 or in_flight:
                last = f"{response.status_code} {response.text[:300]}"
                time.sleep(0.05)
                continue
            if response.status_code >= 300:
                with self.ledger.lock:
                    self.ledger.unexpected.append(f"{kind} {path}: {response.status_code} {response.text[:200]}")
                raise AssertionError(f"{kind} {path}: {response.status_code} {response.text[:200]}")
            doc_id = int(response.json()["id"])
            with self.ledger.lock:
                self.ledger.answers[key].append(doc_id)
            return doc_id
        raise TimeoutError(f"{kind} {path} key {key} unanswered within the budget; last: {last}")


MODELS = {"purchase_order": PurchaseOrder, "goods_receipt": GoodsReceipt, "sales_order": SalesOrder,
          "shipment": Shipment, "customer_invoice": CustomerInvoice}
HEADERLESS = {  # a header whose lines are missing: a half-written document
    "sales_order": "SELECT count(*) FROM sales_order h WHERE NOT EXISTS "
                   "(SELECT 1 FROM sales_order_line l WHERE l.sales_order_id = h.id)",
    "purchase_order": "SELECT count(*) FROM purchase_order h WHERE NOT EXISTS "
                      "(SELECT 1 FROM purchase_order_line l WHERE l.purchase_order_id = h.id)",
    "goods_receipt": "SELECT count(*) FROM goods_receipt h WHERE NOT EXISTS "
                     "(SELECT 1 FROM goods_receipt_line l WHERE l.goods_receipt_id = h.id) OR NOT EXISTS "
                     "(SELECT 1 FROM stock_move m WHERE m.source_type = 'goods_receipt' AND m.source_id = h.id)",
    "shipment": "SELECT count(*) FROM shipment h WHERE NOT EXISTS "
                "(SELECT 1 FROM shipment_line l WHERE l.shipment_id = h.id) OR NOT EXISTS "
                "(SELECT 1 FROM stock_move m WHERE m.source_type = 'shipment' AND m.source_id = h.id)",
    "journal_entry": "SELECT count(*) FROM journal_entry h WHERE NOT EXISTS "
                     "(SELECT 1 FROM journal_line l WHERE l.journal_entry_id = h.id)",
}


@pytest.mark.pg
@pytest.mark.slow
def test_sigkill_mid_posting_leaves_nothing_half_written(database: tuple[Engine, str], tmp_path: Path) -> None:
    engine, url = database
    erp = bootstrap(engine)
    w = make_world(erp)
    stock_up(w, "100000")
    world = {"supplier_id": w.supplier_id, "customer_id": w.customer_id, "item_id": w.item_id}
    token = create_token(erp, "admin", "sigkill-trials")
    with engine.connect() as conn:
        before = {kind: int(conn.scalar(select(func.count()).select_from(model)) or 0)
                  for kind, model in MODELS.items()}
    server = Server(url, tmp_path)
    ledger = Ledger()
    started = time.monotonic()
    rng = random.Random()
    moments: list[float] = []
    server.start()
    try:
        with Clients(server.url, token, world, ledger, started + BUDGET_S) as clients:
            for _ in range(TRIALS):
                moment = rng.uniform(0.2, 1.0)  # a random moment into this server's life, the clients busy
                moments.append(round(moment, 2))
                time.sleep(moment)
                server.kill_and_replace()
            time.sleep(0.5)
        assert clients.errors == [] and ledger.unexpected == []
    finally:
        server.stop()
    took = time.monotonic() - started
    print(f"{TRIALS} SIGKILLs at {moments}s into each server's life; {sum(map(len, ledger.keys.values()))} keys, "
          f"{ledger.cut} requests cut or refused by a kill; {took:.1f}s, server starts took {server.start_times}s")
    assert ledger.cut >= TRIALS  # the kills met requests
    assert all(len(set(ids)) == 1 for ids in ledger.answers.values()), "a key got two different results"
    assert all(ledger.answers[key] for keys in ledger.keys.values() for key in keys), "a key was never answered"
    with engine.connect() as conn:
        for kind, model in MODELS.items():
            created = int(conn.scalar(select(func.count()).select_from(model)) or 0) - before[kind]
            returned = {ledger.answers[key][0] for key in ledger.keys[kind]}
            assert created == len(ledger.keys[kind]) == len(returned), kind  # one document per distinct key
        for what, sql in HEADERLESS.items():
            assert conn.execute(text(sql)).scalar() == 0, f"a half-written {what}"
    report = run_check(engine)
    assert report.ok, report.violations
    assert took < BUDGET_S
