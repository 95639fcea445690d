"""The API benchmark's CPU accounting: the figure `--against` compares between two source trees."""

from __future__ import annotations

import os

import psycopg
import pytest

from bench.api_throughput import cpu_seconds, cpu_spent
from tests.dbhelpers import pg_url


def test_cpu_spent_adds_per_kind_and_counts_new_processes_whole() -> None:
    before = {("server", 1): 2.0, ("postgres", 7): 1.0}
    after = {("server", 1): 2.5, ("server", 2): 0.25, ("postgres", 7): 1.5, ("postgres", 8): 0.5}
    assert cpu_spent(before, after) == (0.75, 1.0)


def test_cpu_seconds_reads_the_server_and_only_its_named_backends() -> None:
    url = pg_url()
    if url is None:
        pytest.fail("the benchmark needs PostgreSQL")
    with psycopg.connect(url, application_name="erpops-bench-test") as named, psycopg.connect(url) as other:
        named.execute("SELECT count(*) FROM generate_series(1, 300000)").fetchone()
        other.execute("SELECT 1").fetchone()
        mine = named.info.backend_pid
        found = cpu_seconds(os.getpid(), url, "erpops-bench-test")
        assert ("server", os.getpid()) in found
        assert {pid for kind, pid in found if kind == "postgres"} == {mine}
        assert found[("postgres", mine)] > 0
        named.execute("SELECT count(*) FROM generate_series(1, 3000000)").fetchone()
        server_s, postgres_s = cpu_spent(found, cpu_seconds(os.getpid(), url, "erpops-bench-test"))
        assert postgres_s > 0 and server_s >= 0
