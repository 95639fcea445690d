"""What the audit trail costs the API: order-to-cash chains per second and server CPU per request, with the audit
step on and off (`ERPOPS_ACCESS__AUDIT_ENABLED=false`, a setting for this measurement only), in alternating
pairs on one PostgreSQL schema, so that a noisy machine hits both sides alike.

Each run starts `erpops serve` (the `bench.api_throughput` server, fixture and load), drives `--clients` for
`--seconds`, and reads the CPU time (user + system) of the server's whole process tree before and after.

Run: .venv/bin/python -m bench.audit_cost [--pairs 3] [--clients 8] [--seconds 15] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from bench.api_throughput import (
    APP_NAME,
    DEFAULT_URL,
    bench_schema,
    cpu_seconds,
    cpu_spent,
    drive,
    start_server,
)
from loadtest.fixture import create_fixture, tokens_from_database


@dataclass(frozen=True)
class Run:
    audit: bool
    chains_per_s: float
    requests: int
    cpu_ms_per_request: float


def one_run(db_url: str, audit: bool, clients: int, seconds: float, workers: int, tmp: Path) -> Run:
    """One server with the audit step on or off, warmed up, then driven for `seconds`."""
    os.environ["ERPOPS_ACCESS__AUDIT_ENABLED"] = "true" if audit else "false"
    server = start_server(db_url, tmp / f"server-{audit}.log", workers)
    try:
        fx = create_fixture(server.url, tokens_from_database(db_url, "bench"), items=50, customers=20)
        drive(server.url, fx, 2, 2)
        cpu = cpu_seconds(server.process.pid, db_url, APP_NAME)
        tally, wall = drive(server.url, fx, clients, seconds)
        used = cpu_spent(cpu, cpu_seconds(server.process.pid, db_url, APP_NAME))[0]  # the server's, not PostgreSQL's
    finally:
        server.stop()
    requests = sum(tally.statuses.values())
    return Run(audit, tally.chains / wall, requests, used * 1000 / max(requests, 1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_cost")
    parser.add_argument("--url", default=os.environ.get("ERPOPS_TEST_PG_URL", DEFAULT_URL))
    parser.add_argument("--pairs", type=int, default=3)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    runs: list[Run] = []
    with bench_schema(args.url) as db_url, tempfile.TemporaryDirectory() as tmp:
        for pair in range(args.pairs):
            order = (True, False) if pair % 2 == 0 else (False, True)
            for audit in order:
                run = one_run(db_url, audit, args.clients, args.seconds, args.workers, Path(tmp))
                runs.append(run)
                print(f"pair {pair + 1} audit {'on ' if audit else 'off'}: {run.chains_per_s:6.1f} chains/s, "
                      f"{run.requests} requests, server CPU {run.cpu_ms_per_request:.2f} ms/request", flush=True)
    on = [r for r in runs if r.audit]
    off = [r for r in runs if not r.audit]
    pairs = list(zip(on, off, strict=True))  # each pair ran back to back: the fairest comparison on a noisy host
    print(f"per pair: throughput cost {', '.join(f'{1 - a.chains_per_s / b.chains_per_s:.1%}' for a, b in pairs)}; "
          f"CPU per request {', '.join(f'{a.cpu_ms_per_request / b.cpu_ms_per_request - 1:+.1%}' for a, b in pairs)}")
    print(f"median of the pairs: throughput cost "
          f"{statistics.median(1 - a.chains_per_s / b.chains_per_s for a, b in pairs):.1%}, CPU per request "
          f"{statistics.median(a.cpu_ms_per_request / b.cpu_ms_per_request - 1 for a, b in pairs):+.1%}")
    rate_on, rate_off = statistics.median(r.chains_per_s for r in on), statistics.median(r.chains_per_s for r in off)
    cpu_on = statistics.median(r.cpu_ms_per_request for r in on)
    cpu_off = statistics.median(r.cpu_ms_per_request for r in off)
    print(f"median chains/s: audit on {rate_on:.1f}, off {rate_off:.1f}: throughput cost "
          f"{1 - rate_on / rate_off:.1%} (target <= 15%)")
    print(f"median server CPU per request: on {cpu_on:.2f} ms, off {cpu_off:.2f} ms: +{cpu_on / cpu_off - 1:.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
