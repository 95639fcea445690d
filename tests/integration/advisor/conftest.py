"""Throw-away PostgreSQL databases with hypopg for the advisor, and a cluster with pg_stat_statements."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from opskit.pg import Cluster
from tests.dbhelpers import pg_url

ORDERS = """
CREATE TABLE customer (id bigint PRIMARY KEY, code text NOT NULL UNIQUE, name text NOT NULL, region text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customer(id),
                     status text NOT NULL, order_date date NOT NULL, amount numeric(12, 2) NOT NULL, note text);
INSERT INTO customer SELECT g, 'C' || g, 'customer ' || g, (ARRAY['n', 's', 'e', 'w'])[1 + g % 4]
FROM generate_series(1, 4000) g;
INSERT INTO orders SELECT g, 1 + (g * 7919) % 4000,
       (ARRAY['draft', 'approved', 'shipped', 'invoiced', 'closed'])[1 + g % 5],
       date '2021-01-01' + (g % 1460), (g % 997) * 1.5, NULL
FROM generate_series(1, 100000) g;
CREATE INDEX ix_orders_amount ON orders (amount);
CREATE INDEX ix_orders_amount_again ON orders (amount);
CREATE INDEX ix_orders_customer_fk ON orders (customer_id, id);
ANALYZE;
"""


def server() -> str:
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL answers on 127.0.0.1:5432 and ERPOPS_TEST_PG_URL is not set")
    return url


@pytest.fixture
def database() -> Iterator[str]:
    """A fresh database on the test server (random name), dropped afterwards."""
    with _database() as url:
        yield url


@contextmanager
def _database() -> Iterator[str]:
    admin_url = server()
    name = "advisor_" + uuid.uuid4().hex[:10]
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    try:
        yield admin_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="module")
def orders_db() -> Iterator[str]:
    """Customers and 100,000 orders with only keys, a duplicated index and an unused one (shared by a module's
    tests: a test that adds an index drops it again)."""
    with _database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ORDERS)
        yield url


@pytest.fixture
def stat_cluster() -> Iterator[str]:
    """A throw-away cluster with pg_stat_statements preloaded (the URL of its `postgres` database)."""
    base = Path(tempfile.mkdtemp(prefix="erpops-advisor-test-"))
    os.chmod(base, 0o777)  # the server runs as `postgres`
    cluster = Cluster(base / "data")
    try:
        cluster.initdb({"shared_preload_libraries": "pg_stat_statements", "pg_stat_statements.track": "all",
                        "fsync": "off", "shared_buffers": "32MB"})
        cluster.start()
        yield cluster.url()
    finally:
        cluster.remove()
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def log_cluster() -> Iterator[tuple[str, Path]]:
    """A throw-away cluster that logs every statement with its duration and parameters (URL, log file)."""
    base = Path(tempfile.mkdtemp(prefix="erpops-advisor-test-"))
    os.chmod(base, 0o777)
    cluster = Cluster(base / "data")
    try:
        cluster.initdb({"log_min_duration_statement": "0", "log_line_prefix": "%m [%p] ", "fsync": "off",
                        "shared_buffers": "32MB"})
        cluster.start()
        yield cluster.url(), cluster.log
    finally:
        cluster.remove()
        shutil.rmtree(base, ignore_errors=True)
