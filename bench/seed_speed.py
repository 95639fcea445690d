"""Seed benchmark: `erpops seed` into a fresh PostgreSQL schema against a raw COPY of as many trivial rows.

The baseline runs in the same process against the same server: one COPY stream of (bigint, bigint,
text) rows, the fastest way this machine can put that many rows into PostgreSQL from Python. The
ratio says what the simulation, the real row widths, the indexes and the constraint checks cost.

Run: .venv/bin/python -m bench.seed_speed [--years 5 --orders-per-day 200] [--seed 1] [--check]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from erpcore.migrate import scratch_schema
from erpcore.seed import SeedSummary, seed

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def baseline(engine: Engine, rows: int) -> float:
    """Seconds to COPY `rows` trivial rows into a plain (logged, unindexed) table in one transaction."""
    raw = engine.raw_connection()
    try:
        conn: Any = raw.driver_connection
        conn.execute("CREATE TABLE seed_baseline (id bigint, n bigint, label text)")
        began = time.perf_counter()
        with conn.cursor() as cursor, cursor.copy("COPY seed_baseline (id, n, label) FROM STDIN") as copy:
            for i in range(rows):
                copy.write_row((i, i * 7, "row"))
        conn.commit()
        return time.perf_counter() - began
    finally:
        raw.close()


def progress_printer() -> Callable[[int, int], None]:
    """A progress callback printing every tenth of the way on stderr."""
    shown = [0.0]
    began = time.perf_counter()

    def tick(done: int, total: int) -> None:
        share = done / total
        if share - shown[0] >= 0.1 or done == total:
            shown[0] = share
            print(f"  {share:4.0%} after {time.perf_counter() - began:6.1f}s", file=sys.stderr, flush=True)

    return tick


def report(summary: SeedSummary, wall: float, base: float, check_s: float | None) -> None:
    print(f"seed {summary.start} .. {summary.end} at {summary.orders_per_day} orders/day (seed {summary.seed})")
    for table, count in summary.rows.items():
        print(f"  {table:24} {count:>12,}")
    print(f"rows          {summary.total_rows:,}")
    print(f"sales orders  {summary.rows['sales_order']:,} with {summary.rows['sales_order_line']:,} lines")
    print(f"wall time     {wall:.1f} s ({summary.total_rows / wall:,.0f} rows/s)")
    print(f"baseline      {base:.1f} s raw COPY of {summary.total_rows:,} trivial rows "
          f"({summary.total_rows / base:,.0f} rows/s)")
    print(f"ratio         {wall / base:.2f}x the baseline")
    if check_s is not None:
        print(f"check         passed in {check_s:.1f} s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=5)
    parser.add_argument("--orders-per-day", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--url", default=os.environ.get("ERPOPS_TEST_PG_URL", DEFAULT_URL))
    parser.add_argument("--check", action="store_true", help="run the integrity check on the result")
    parser.add_argument("--keep", action="store_true", help="keep the seeded schema")
    args = parser.parse_args(argv)
    with scratch_schema(args.url, "bench_seed", keep=args.keep) as (engine, schema):
        began = time.perf_counter()
        summary = seed(engine, args.years, args.orders_per_day, args.seed, progress=progress_printer())
        wall = time.perf_counter() - began
        check_s = None
        if args.check:
            from erpcore.check import run_check

            result = run_check(engine)
            if not result.ok:
                print("\n".join(v.message for v in result.violations), file=sys.stderr)
                return 1
            check_s = result.duration_s
        base = baseline(engine, summary.total_rows)
        if args.keep:
            print(f"kept schema {schema}", file=sys.stderr)
    report(summary, wall, base, check_s)
    return 0


if __name__ == "__main__":
    sys.exit(main())
