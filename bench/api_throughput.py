"""API throughput: completed order-to-cash chains per second over HTTP on PostgreSQL, beside pgbench TPC-B.

A chain is a five-line sales order created, approved (reserved), shipped, invoiced and paid, every step
posted to the ledgers, through the real API served by uvicorn in its own process. pgbench TPC-B runs on
the same server right before and after each API round; the ratio is chains/s over the mean of the two,
reported as the median of three rounds. A last run at 50 clients shows how the API refuses under
contention (only 409/422 allowed) and its p99.

The server is `erpops serve --workers N` (default 2, as `erpops serve` runs on PostgreSQL); `--workers 1`
measures the single-process server the earlier figures came from.

pgbench runs its standard TPC-B script in its default (simple) query protocol, as `pgbench -c N -T S` does
(4,300-4,500 tps here on a quiet machine, with -j 1 or 2 alike); `-M prepared` gives about 1.3x more and its
ratio is printed beside, for reference. The clients use the standard library's keep-alive HTTP connection,
not httpx: on 2 cores shared with the server, the load generator's own CPU is taken from the server.

Run: .venv/bin/python -m bench.api_throughput [--clients 8] [--seconds 15] [--rounds 3] [--pgbench-seconds 10]
     [--workers 2] [--profile stacks.txt]   (py-spy samples the server's processes during the first round)
     [--against /work/wt/before]   (alternate rounds with a server run from another source tree, e.g. a
     `git worktree add` of an older commit; CPU per chain, of the server and its PostgreSQL backends, is the
     figure a busy machine disturbs least)
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from sqlalchemy import text

from erpcore.db import make_engine
from erpcore.migrate import scratch_schema
from loadtest.fixture import API, Fixture, create_fixture, tokens_from_database
from opskit.ports import free_port
from opskit.proc import ServerProcess, start_http_server

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"
PGBIN = Path("/usr/lib/postgresql/15/bin")
POSTING = ("approve", "ship", "invoice", "receipt")
APP_NAME = "erpops-bench"


@dataclass
class Tally:
    """Chains completed and per-step latencies (ms) and statuses, shared by the client threads."""

    chains: int = 0
    latencies: dict[str, list[float]] = field(default_factory=lambda: {s: [] for s in ("create", *POSTING)})
    statuses: Counter[int] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, step: str, ms: float, status: int) -> None:
        with self.lock:
            self.latencies[step].append(ms)
            self.statuses[status] += 1


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))]


@contextmanager
def bench_schema(url: str, tree: Path | None = None) -> Iterator[str]:
    """A fresh migrated schema; yields the database URL whose connections use it (application name
    `erpops-bench`, so the CPU of its PostgreSQL backends can be told apart). With `tree`, the schema is
    migrated by that source tree's own `erpops db upgrade`, for a server run from it."""
    with scratch_schema(url, "bench_api", migrate=tree is None) as (engine, schema):
        engine.dispose()
        db_url = f"{url}{'&' if '?' in url else '?'}options=-csearch_path%3D{schema}&application_name={APP_NAME}"
        if tree is not None:
            subprocess.run([sys.executable, "-m", "erpops", "db", "upgrade"], check=True, capture_output=True,
                           timeout=300, cwd=tree,  # -m puts the working directory first on sys.path
                           env={**os.environ, "PYTHONPATH": str(tree), "ERPOPS_DATABASE_URL": db_url})
        yield db_url


@contextmanager
def pgbench_database(url: str, scale: int) -> Iterator[str]:
    """A scratch database initialised by `pgbench -i`, dropped afterwards."""
    name = "bench_pgbench_" + uuid.uuid4().hex[:8]
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = re.sub(r"/[^/?]+(\?|$)", f"/{name}\\1", url.replace("postgresql+psycopg://", "postgresql://"), count=1)
    target = target.split("?")[0]
    try:
        subprocess.run([str(PGBIN / "pgbench"), "-i", "-q", "-s", str(scale), target], check=True,
                       capture_output=True, timeout=300)
        yield target
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def pgbench_tps(target: str, clients: int, seconds: int, mode: str = "simple") -> float:
    """TPC-B transactions per second (without connection time) in query protocol `mode`."""
    done = subprocess.run([str(PGBIN / "pgbench"), "-c", str(clients), "-j", "2", "-T", str(seconds), "-M",
                           mode, target], check=True, capture_output=True, text=True, timeout=seconds + 60)
    match = re.search(r"tps = ([\d.]+) \(without initial connection time\)", done.stdout)
    if match is None:
        raise RuntimeError(f"cannot read pgbench output: {done.stdout[-400:]}")
    return float(match[1])


class Client:
    """One keep-alive HTTP/1.1 connection posting JSON: 1.5 ms of CPU per chain where httpx took 4.5."""

    def __init__(self, base_url: str, timeout: float = 30) -> None:
        host, _, port = base_url.removeprefix("http://").partition(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=timeout)

    def post(self, path: str, body: object, token: str) -> tuple[int, Any]:
        payload = b"" if body is None else json.dumps(body).encode()
        self.conn.request("POST", path, payload, {"Authorization": f"Bearer {token}",
                                                  "Content-Type": "application/json"})
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def close(self) -> None:
        self.conn.close()


def chain(client: Client, fx: Fixture, tally: Tally, n: int) -> bool:
    """One order-to-cash chain; False when a step was refused."""
    def step(name: str, path: str, role: str, body: object = None) -> dict[str, Any] | None:
        started = time.perf_counter()
        status, reply = client.post(API + path, body, fx.tokens[role])
        tally.add(name, (time.perf_counter() - started) * 1000, status)
        return reply if status in (200, 201) else None

    items = [fx.items[(n + k) % len(fx.items)] for k in range(5)]
    so = step("create", "/sales-orders", "sales", {"customer_id": fx.customers[n % len(fx.customers)],
                                                   "lines": [{"item_id": i, "quantity": "1"} for i in items]})
    if so is None or step("approve", f"/sales-orders/{so['id']}/approve", "sales") is None:
        return False
    if step("ship", f"/sales-orders/{so['id']}/ship", "warehouse") is None:
        return False
    invoice = step("invoice", f"/sales-orders/{so['id']}/invoice", "finance")
    return invoice is not None and step("receipt", f"/customer-invoices/{invoice['id']}/receipts", "finance") \
        is not None


def drive(host: str, fx: Fixture, clients: int, seconds: float) -> tuple[Tally, float]:
    """`clients` threads running chains back to back for `seconds`; returns the tally and the wall time."""
    tally = Tally()
    stop = time.monotonic() + seconds

    def worker(offset: int) -> None:
        n = offset
        client = Client(host)
        try:
            while time.monotonic() < stop:
                if chain(client, fx, tally, n):
                    with tally.lock:
                        tally.chains += 1
                n += clients
        finally:
            client.close()

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(seconds + 60)
    return tally, time.monotonic() - started


def start_server(database_url: str, log_path: Path, workers: int, wait_s: float = 60.0,
                 tree: Path | None = None) -> ServerProcess:
    """`erpops serve --workers N` on 127.0.0.1 over `database_url`, once /healthz answers; run from the source
    tree `tree` when given (its code first on PYTHONPATH)."""
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "ERPOPS_DATABASE_URL": database_url}
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    argv = [str(Path(sys.executable).parent / "erpops"), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--workers", str(workers), "--no-access-log"]
    return start_http_server(argv, f"http://127.0.0.1:{port}", log_path, env=env, wait_s=wait_s)


def start_profile(pid: int, seconds: float, path: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server and its workers (all threads, idle excluded) into collapsed stacks at `path`."""
    spy = Path(sys.executable).parent / "py-spy"
    return subprocess.Popen([str(spy), "record", "-p", str(pid), "--subprocesses", "-d", str(int(seconds)), "-r",
                             "200", "-f", "raw", "-o", str(path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def heaviest(path: Path, top: int = 25) -> list[tuple[str, float]]:
    """Frames by the share of busy samples they appear in (inclusive), from py-spy's collapsed stacks."""
    counts: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        total += int(n)
        for frame in set(stack.split(";")):
            counts[re.sub(r":\d+\)$", ")", frame)] += int(n)
    return [(frame, n / total) for frame, n in counts.most_common(top)] if total else []


@dataclass
class Side:
    """One server under test: this tree, or another source tree (`--against`) served the same way."""

    name: str
    tree: Path | None
    db_url: str = ""
    server: ServerProcess | None = None
    fx: Fixture | None = None
    rates: list[float] = field(default_factory=list)
    ratios: list[float] = field(default_factory=list)
    cpu_ms: list[tuple[float, float]] = field(default_factory=list)


def fixture_for(side: Side) -> Fixture:
    """Tokens and master data in `side`'s database, made by `side`'s own code (its schema and API may differ)."""
    assert side.server is not None
    if side.tree is None:
        return create_fixture(side.server.url, tokens_from_database(side.db_url, "bench"), items=50, customers=20)
    code = ("import json, sys; from loadtest.fixture import create_fixture, tokens_from_database as t; "
            "print(json.dumps(create_fixture(sys.argv[2], t(sys.argv[1], 'bench'), items=50, customers=20).to_json()))")
    done = subprocess.run([sys.executable, "-c", code, side.db_url, side.server.url], check=True, capture_output=True,
                          text=True, timeout=300, cwd=side.tree, env={**os.environ, "PYTHONPATH": str(side.tree)})
    return Fixture.from_json(json.loads(done.stdout))


def cpu_seconds(server_pid: int, url: str, application_name: str) -> dict[tuple[str, int], float]:
    """CPU seconds (user + system) so far of the server's processes and of the PostgreSQL backends serving
    `application_name`, keyed by (kind, pid)."""
    found: dict[tuple[str, int], float] = {}
    root = psutil.Process(server_pid)
    for proc in (root, *root.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            found[("server", proc.pid)] = t.user + t.system
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE application_name = :a"),
                                {"a": application_name}).scalars().all()
    finally:
        engine.dispose()
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            t = psutil.Process(pid).cpu_times()
            found[("postgres", pid)] = t.user + t.system
    return found


def cpu_spent(before: dict[tuple[str, int], float], after: dict[tuple[str, int], float]) -> tuple[float, float]:
    """(server, postgres) CPU seconds spent between two `cpu_seconds` readings."""
    spent = {"server": 0.0, "postgres": 0.0}
    for key, value in after.items():
        spent[key[0]] += value - before.get(key, 0.0)
    return spent["server"], spent["postgres"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.api_throughput")
    parser.add_argument("--url", default=os.environ.get("ERPOPS_TEST_PG_URL", DEFAULT_URL))
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--contention-clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2, help="API server processes")
    parser.add_argument("--profile", type=Path, default=None, help="py-spy collapsed stacks of round 1 here")
    parser.add_argument("--against", type=Path, default=None,
                        help="another source tree (e.g. a `git worktree` of an older commit) served the same way, "
                             "its rounds alternating with this tree's; prints both and their ratio")
    args = parser.parse_args(argv)
    sides = [Side("this tree", None)] + ([Side(str(args.against), args.against)] if args.against else [])
    with pgbench_database(args.url, 10) as pgb, contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        for k, side in enumerate(sides):
            side.db_url = stack.enter_context(bench_schema(args.url, side.tree))
            side.server = start_server(side.db_url, tmp / f"server{k}.log", args.workers, tree=side.tree)
            stack.callback(side.server.stop)
            side.fx = fixture_for(side)
            drive(side.server.url, side.fx, 2, 2)  # warm up
        for r in range(1, args.rounds + 1):
            for side in sides if r % 2 else reversed(sides):
                assert side.server is not None and side.fx is not None
                before = pgbench_tps(pgb, args.clients, args.pgbench_seconds)
                spy = start_profile(side.server.process.pid, args.seconds, args.profile) \
                    if args.profile and r == 1 and side.tree is None else None
                cpu_before = cpu_seconds(side.server.process.pid, args.url, APP_NAME)
                tally, wall = drive(side.server.url, side.fx, args.clients, args.seconds)
                server_s, postgres_s = cpu_spent(cpu_before, cpu_seconds(side.server.process.pid, args.url,
                                                                         APP_NAME))
                if spy is not None and args.profile is not None:
                    spy.wait(60)
                    for frame, share in heaviest(args.profile):
                        print(f"    profile {share:6.1%}  {frame}")
                after = pgbench_tps(pgb, args.clients, args.pgbench_seconds)
                prepared = pgbench_tps(pgb, args.clients, args.pgbench_seconds, "prepared")
                rate = tally.chains / wall
                ratio = rate / ((before + after) / 2)
                side.rates.append(rate)
                side.ratios.append(ratio)
                per_chain = (1000 * server_s / max(tally.chains, 1), 1000 * postgres_s / max(tally.chains, 1))
                side.cpu_ms.append(per_chain)
                posting = [ms for s in POSTING for ms in tally.latencies[s]]
                print(f"round {r} [{side.name}]: {rate:.1f} chains/s at {args.clients} clients; pgbench TPC-B "
                      f"{before:.0f} / {after:.0f} tps; ratio {ratio:.4f} (to -M prepared {prepared:.0f} tps: "
                      f"{rate / prepared:.4f}); CPU per chain: server {per_chain[0]:.1f} ms, PostgreSQL "
                      f"{per_chain[1]:.1f} ms; posting p50 {pct(posting, 50):.1f} ms, p95 {pct(posting, 95):.1f} ms, "
                      f"p99 {pct(posting, 99):.1f} ms; statuses {dict(tally.statuses)}")
                for s in ("create", *POSTING):
                    v = tally.latencies[s]
                    print(f"    {s:8s} p50 {pct(v, 50):6.1f}  p95 {pct(v, 95):6.1f}  p99 {pct(v, 99):6.1f} ms")
        for side in sides:
            assert side.server is not None and side.fx is not None
            tally, wall = drive(side.server.url, side.fx, args.contention_clients, args.seconds)
            everything = [ms for v in tally.latencies.values() for ms in v]
            bad = {s: n for s, n in tally.statuses.items() if s not in (200, 201, 409, 422)}
            print(f"[{side.name}] {args.contention_clients} clients: {tally.chains / wall:.1f} chains/s, p99 "
                  f"{pct(everything, 99):.0f} ms, statuses {dict(tally.statuses)}"
                  f"{'' if not bad else f'; UNEXPECTED {bad}'}")
    for side in sides:
        server_ms = statistics.median(c[0] for c in side.cpu_ms)
        postgres_ms = statistics.median(c[1] for c in side.cpu_ms)
        print(f"median [{side.name}]: {statistics.median(side.rates):.1f} chains/s; ratio to pgbench TPC-B "
              f"{statistics.median(side.ratios):.4f} (target 0.02); CPU per chain: server {server_ms:.1f} ms, "
              f"PostgreSQL {postgres_ms:.1f} ms")
    if len(sides) == 2:
        this, other = sides
        print(f"this tree / {other.name}: throughput ratio "
              f"{statistics.median(this.ratios) / statistics.median(other.ratios):.3f}; CPU per chain "
              f"{sum(map(statistics.median, zip(*this.cpu_ms, strict=True))) / sum(map(statistics.median, zip(*other.cpu_ms, strict=True))):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
