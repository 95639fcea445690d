"""Workload cost reduction of the advisor against index_advisor-style and Dexter-style selection (rules
re-implemented in `bench.advisor_baselines`), each compared at no more indexes and no more built size than the
baseline chose; and the advisor's time on 500 distinct statements.

Every set of indexes is built for real (CREATE INDEX, ANALYZE) on a seeded ERP database, the workload is priced
by PostgreSQL's planner with the same parameter sets for all, and the real sizes are read from the catalog. The
workloads: the ERP's `day` mix as pg_stat_statements recorded it (`bench.advisor_erp --workload-out`), and a
generated mix over the ERP schema that the advisor was not tuned on.

    .venv/bin/python -m bench.advisor_vs_baselines [--years 1] [--orders-per-day 30] [--statements 500]
                                                   [--day-workload var/advisor/day.sql]
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path
from typing import Any

from advisor.analyze import Options, _prepare, analyze, connect
from advisor.candidates import Candidate
from advisor.catalog import read_catalog
from advisor.planner import Planner, Prepared
from advisor.selection import Budget
from advisor.workload import Statement, group, read_file
from bench.advisor_baselines import dexter_style, index_advisor_style
from bench.advisor_erp import _erpops, erp_cluster

FKS = """
SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text
FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
WHERE c.contype = 'f' AND cardinality(c.conkey) = 1
"""
COLUMNS = """
SELECT c.table_name::text, c.column_name::text, c.data_type::text FROM information_schema.columns c
JOIN pg_class t ON t.relname = c.table_name AND t.relkind = 'r'
WHERE c.table_schema = 'public' AND t.reltuples > 1000
"""


def generate(conn: Any, count: int, seed: int = 7) -> list[Statement]:
    """`count` distinct statements over the ERP's larger tables: equality filters, ranges, sorts with LIMIT, joins."""
    rng = random.Random(seed)
    cols: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in conn.execute(COLUMNS).fetchall():
        cols.setdefault(table, []).append((column, kind))
    fks = [fk for fk in conn.execute(FKS).fetchall() if fk[0] in cols and fk[2] in cols]
    found: list[Statement] = []
    seen: set[str] = set()
    for _ in range(count * 50):
        if len(found) >= count:
            break
        sql = _join(rng, cols, fks) if rng.random() < 0.3 and fks else _single(rng, cols)
        stmt = group([Statement(sql, calls=max(1, int(2000 / (1 + rng.random() * 200))))])[0]
        if stmt.fingerprint not in seen:
            seen.add(stmt.fingerprint)
            found.append(stmt)
    return found


def _kinds(columns: list[tuple[str, str]], want: tuple[str, ...]) -> list[str]:
    return [c for c, k in columns if any(w in k for w in want) and c != "id"]


def _single(rng: random.Random, cols: dict[str, list[tuple[str, str]]]) -> str:
    table = rng.choice(sorted(cols))
    columns = cols[table]
    pool = _kinds(columns, ("character", "bigint", "integer", "date", "boolean")) or ["id"]
    eq = rng.sample(pool, k=min(len(pool), rng.choice((1, 1, 2))))
    where = [f"{c} = ${i + 1}" for i, c in enumerate(eq)]
    n = len(where)
    ranges = _kinds(columns, ("date", "numeric", "timestamp"))
    if ranges and rng.random() < 0.4:
        where.append(f"{rng.choice(ranges)} >= ${n + 1}")
        n += 1
    sql = f"SELECT {', '.join(rng.sample([c for c, _ in columns], k=min(3, len(columns))))} FROM {table} " \
          f"WHERE {' AND '.join(where)}"
    if ranges and rng.random() < 0.5:
        sql += f" ORDER BY {rng.choice([*ranges, 'id'])}{rng.choice(['', ' DESC'])} LIMIT ${n + 1}"
    return sql


def _join(rng: random.Random, cols: dict[str, list[tuple[str, str]]], fks: list[tuple[str, str, str]]) -> str:
    child, fk, parent = rng.choice(fks)
    filters = _kinds(cols[parent], ("character", "date", "bigint")) or ["id"]
    sql = f"SELECT c.id, p.id FROM {child} c JOIN {parent} p ON p.id = c.{fk} WHERE p.{rng.choice(filters)} = $1"
    extra = _kinds(cols[child], ("character", "date"))
    if extra and rng.random() < 0.5:
        sql += f" AND c.{rng.choice(extra)} = $2"
    return sql


def measure(conn: Any, planner: Planner, prepared: list[Prepared], indexes: list[Candidate]) -> tuple[float, int]:
    """(calls-weighted planner cost of the workload, bytes) with `indexes` built for real; dropped after."""
    names = [f"bench_ix_{i}" for i in range(len(indexes))]
    try:
        for name, index in zip(names, indexes, strict=True):
            conn.execute(index.ddl(concurrently=False, name=name))
        # no ANALYZE: a plain btree needs none, and a re-sampled table would move every cost a little
        size = sum(int(conn.execute("SELECT pg_relation_size(%s::regclass)", (n,)).fetchone()[0]) for n in names)
        cost = sum(p.statement.calls * planner.costs(p, frozenset()).value for p in prepared)
    finally:
        for name in names:
            conn.execute(f"DROP INDEX IF EXISTS {name}")
    return cost, size


def _ours_within(conn: Any, planner: Planner, prepared: list[Prepared], statements: list[Statement], count: int,
                 size: int) -> tuple[list[Candidate], float, int, float]:
    """The advisor's best picks within the baseline's index count whose real built size is no bigger than the
    baseline's: tried with the count alone and with byte budgets (its own estimates) around the baseline's size;
    no minimum benefit (the budget is the baseline's)."""
    best: tuple[list[Candidate], float, int, float] | None = None
    for factor in (None, 1.5, 1.0, 0.6):
        started = time.perf_counter()
        budget = Budget(max(1, count), None if factor is None else max(int(size * factor), 1), 0.0)
        ours = analyze(conn, statements, Options(budget))
        elapsed = time.perf_counter() - started
        mine = [r.candidate for r in ours.recommendations][:count]
        my_cost, my_size = measure(conn, planner, prepared, mine)
        if my_size <= size and (best is None or my_cost < best[1]):
            best = (mine, my_cost, my_size, elapsed)
    return best if best is not None else ([], sum(p.statement.calls * p.base.value for p in prepared), 0, 0.0)


def compare(url: str, label: str, statements: list[Statement]) -> None:
    with connect(url) as conn:
        catalog = read_catalog(conn)
        planner = Planner(conn)
        planner.start()
        prepared, skipped = _prepare(planner, catalog, statements)
        picks = {"index_advisor-style": index_advisor_style(planner, prepared, catalog),
                 "Dexter-style": dexter_style(planner, prepared, catalog)}
        planner.close()
        base, _ = measure(conn, planner, prepared, [])
        print(f"\n{label}: {len(statements)} statements ({len(skipped)} not explainable), workload cost {base:,.0f}")
        print(f"  {'method':<24}{'indexes':>8}{'built MB':>10}{'cost':>16}{'reduction':>11}")
        for name, indexes in picks.items():
            cost, size = measure(conn, planner, prepared, indexes)
            mine, my_cost, my_size, elapsed = _ours_within(conn, planner, prepared, statements, len(indexes), size)
            print(f"  {name:<24}{len(indexes):>8}{size / 2**20:>10.2f}{cost:>16,.0f}{1 - cost / base:>11.1%}")
            print(f"  {'advisor (same budget)':<24}{len(mine):>8}{my_size / 2**20:>10.2f}{my_cost:>16,.0f}"
                  f"{1 - my_cost / base:>11.1%}   ratio of reductions {(base - my_cost) / max(base - cost, 1e-9):.2f}x"
                  f"{'' if my_size <= size else '  (built size OVER the baseline)'}; analysis {elapsed:.1f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--orders-per-day", type=int, default=30)
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--day-workload", type=Path, default=Path("var/advisor/day.sql"))
    args = parser.parse_args()
    with erp_cluster() as (cluster, _base):
        url = cluster.url("erp")
        seeded = _erpops(["seed", "--years", str(args.years), "--orders-per-day", str(args.orders_per_day),
                          "--quiet"], url, 3600)
        if seeded.returncode != 0:
            raise SystemExit(f"seed failed: {seeded.stderr[-800:]}")
        with connect(url) as conn:
            conn.execute("VACUUM ANALYZE")
            generated = generate(conn, args.statements)
        started = time.perf_counter()
        with connect(url) as conn:
            report = analyze(conn, generated)
        print(f"advisor on {len(generated)} distinct generated statements: {time.perf_counter() - started:.1f} s "
              f"wall ({report.explains} plans; target < 60 s): {report.reason}")
        if args.day_workload.is_file():
            compare(url, f"ERP day mix from pg_stat_statements ({args.day_workload})", read_file(args.day_workload))
        compare(url, "generated mix over the ERP schema (not tuned on)", generated)


if __name__ == "__main__":
    main()
