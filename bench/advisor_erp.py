"""The advisor on the ERP's own schema: a seeded database under the loadtest `day` mix, read from
pg_stat_statements, as an operator would run it.

A throw-away cluster preloads pg_stat_statements; `erpops seed` fills it, statistics are reset, `erpops loadtest
run --suite day` drives the API, then `advisor.analyze` reads the statements, `--verify` builds the picks on a
scratch copy, and the health report lists the erpcore indexes no statement of the mix scanned.

    .venv/bin/python -m bench.advisor_erp [--years 2] [--orders-per-day 40] [--users 6] [--run-time 60s]
                                          [--workload-out var/advisor/day.sql]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

from opskit.pg import Cluster
from opskit.signals import sigterm_unwinds

CONF = {"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "top", "fsync": "off",
        "shared_buffers": "128MB", "synchronous_commit": "off"}


@contextmanager
def erp_cluster() -> Iterator[tuple[Cluster, Path]]:
    """A cluster with pg_stat_statements and an empty `erp` database; removed on the way out."""
    base = Path(tempfile.mkdtemp(prefix="erpops-advisor-bench-"))
    os.chmod(base, 0o777)  # the server runs as `postgres`
    cluster = Cluster(base / "data")
    with sigterm_unwinds(), _removed(cluster, base):
        cluster.initdb(CONF)
        cluster.start()
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE erp")
        yield cluster, base


@contextmanager
def _removed(cluster: Cluster, base: Path) -> Iterator[None]:
    try:
        yield
    finally:
        cluster.remove()
        shutil.rmtree(base, ignore_errors=True)


def _erpops(args: list[str], url: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ERPOPS_DATABASE_URL=url)
    return subprocess.run([sys.executable, "-m", "erpops", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def seed_and_load(url: str, out: Path, years: int, per_day: int, users: int, run_time: str) -> dict[str, float]:
    """Seed, reset the statistics, run the day mix; seconds each took."""
    started = time.perf_counter()
    seeded = _erpops(["seed", "--years", str(years), "--orders-per-day", str(per_day), "--quiet"], url, 3600)
    if seeded.returncode != 0:
        raise SystemExit(f"seed failed: {seeded.stderr[-800:]}")
    seed_s = time.perf_counter() - started
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        conn.execute("VACUUM ANALYZE")
        conn.execute("SELECT pg_stat_statements_reset()")
        conn.execute("SELECT pg_stat_reset()")
    started = time.perf_counter()
    loaded = _erpops(["loadtest", "run", "--suite", "day", "--users", str(users), "--run-time", run_time,
                      "--database-url", url, "--out", str(out / "loadtest"), "--json"], url, 1800)
    if loaded.returncode not in (0, 3):
        raise SystemExit(f"loadtest failed ({loaded.returncode}): {loaded.stderr[-800:]}")
    return {"seed_s": seed_s, "load_s": time.perf_counter() - started}


def write_workload(statements: list[Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"-- calls: {s.calls}\n{s.text};\n\n" for s in statements))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=2)
    parser.add_argument("--orders-per-day", type=int, default=40)
    parser.add_argument("--users", type=int, default=6)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--workload-out", type=Path, default=Path("var/advisor/day.sql"))
    args = parser.parse_args()
    from advisor.analyze import analyze, connect
    from advisor.catalog import read_catalog
    from advisor.health import report as health
    from advisor.verify import verify
    from advisor.workload import read_stat_statements

    with erp_cluster() as (cluster, base):
        url = cluster.url("erp")
        times = seed_and_load(url, base, args.years, args.orders_per_day, args.users, args.run_time)
        with connect(url) as conn:
            statements = read_stat_statements(conn)
            write_workload(statements, args.workload_out)
            result = analyze(conn, statements)
            checked = verify(conn, result)
            found = health(read_catalog(conn))
    print(f"seed {times['seed_s']:.0f} s, day mix {times['load_s']:.0f} s; {len(statements)} distinct statements "
          f"({sum(s.sources for s in statements)} pg_stat_statements entries, {sum(s.calls for s in statements)} "
          f"calls) -> {args.workload_out}")
    print(result.reason + f" in {result.elapsed_s:.1f} s")
    for rec in result.recommendations:
        print(f"  {rec.create}  -- {rec.reason}")
        for q in rec.queries[:3]:
            print(f"      {q.calls} x {q.cost_before:.1f} -> {q.cost_after:.1f}: {q.statement[:110]}")
    for check in checked.indexes:
        print(f"  verify {check.index}: estimated {check.estimated_speedup}x, measured {check.measured_speedup}x, "
              f"{check.estimated_bytes / 2**20:.1f} MB estimated, {check.real_bytes / 2**20:.1f} MB built"
              f"{' DISAGREES' if check.disagrees else ''}")
    singles = [f for f in found.findings if f.kind == "unused" and len(f.columns) == 1]
    print(f"{len(singles)} single-column indexes with no scan under the day mix: "
          + ", ".join(f"{f.index} ({f.size_bytes / 2**20:.1f} MB)" for f in singles))
    others = [f for f in found.findings if f not in singles]
    for f in others:
        print(f"  {f.kind}: {f.index} on {f.table} ({', '.join(f.columns)}): {f.reason}")
    kept = [name for name, why in found.kept if why.startswith("supports the foreign key")]
    print(f"kept as foreign-key support (never called unused): {len(kept)}")


if __name__ == "__main__":
    main()
