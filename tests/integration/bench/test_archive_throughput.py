"""The archive benchmark, at its smallest useful size: both sides move the same rows, every probe reports, and
the scratch schemas are gone afterwards (README's full-size command takes 7 minutes; this one seconds)."""

from __future__ import annotations

import re

import psycopg
import pytest

from bench.archive_throughput import main
from tests.dbhelpers import pg_database_engine, pg_url


def _schemas(url: str) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench_arch_%'")}


def test_the_benchmark_moves_the_same_rows_both_ways_and_prints_three_verdicts(
        capsys: pytest.CaptureFixture[str]) -> None:
    url = pg_url()
    if url is None:
        pytest.fail("the benchmark needs PostgreSQL")
    with pg_database_engine(url) as engine:  # a database of its own: no test reading a catalog sees the seed
        own = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        assert main(["--years", "4", "--orders-per-day", "1", "--idle-seconds", "0.5", "--profile", "--waits", "--url",
                     own]) == 0
        assert _schemas(own) == set()
    out = capsys.readouterr().out
    batched = re.search(r"batched archive +([\d,]+) rows", out)
    single = re.search(r"single statements +([\d,]+) rows", out)
    assert batched and single and batched[1] == single[1] and int(batched[1].replace(",", "")) > 1000, out
    idle = re.search(r"^probes: [\d,]+ idle over 2 x 0.5 s \(p99 [\d.]+ ms before the archive, [\d.]+ ms before the "
                     r"single statements; the baseline is the p99 of both\)", out, re.M)
    assert idle, out
    sampled = re.search(r"^the probe's backend during the archive: ([\d,]+) samples, running a statement in ([\d,]+)",
                        out, re.M)
    assert sampled and int(sampled[1].replace(",", "")) > 10, out
    # the server is on this machine: the tail says how long the probe waited for a CPU
    part = r"commit [\d.]+, waiting for a CPU [\d.]+ of [\d.]+ ms \(\d+ samples\)"
    tails = re.search(rf"^probe's slowest 1%, on average: idle {part}; during the archive {part}; during the single "
                      rf"statements {part}$", out, re.M)
    assert tails, out
    assert re.search(r"^inside sales_orders's \d+ one-call batches, per batch: .*judge [\d.]+ ms", out, re.M), out
    verdicts = re.findall(r"^(throughput ratio|OLTP probe p99|lock wait max) .*(PASS|MISS)", out, re.M)
    assert [v[0] for v in verdicts] == ["throughput ratio", "OLTP probe p99", "lock wait max"], out
    waits = re.search(r"lock wait max +(\d+) ms on a to-be-archived order .*\[single statement (\d+) ms\]", out)
    assert waits, out  # both sides' lock probes ran (the single statement's side has no archive book)
