"""A private PostgreSQL schema as one `ERPOPS_DATABASE_URL`, for commands run the way a user runs them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

from tests.dbhelpers import pg_url


@pytest.fixture
def pg_schema_url() -> Iterator[str]:
    """A URL whose connections see only a fresh, empty schema (search_path), dropped afterwards.

    A schema rather than a database: DROP DATABASE waits for a checkpoint, over a minute on a busy machine.
    """
    import psycopg

    server = pg_url()
    if server is None:
        if os.environ.get("CI"):
            pytest.fail("no PostgreSQL on 127.0.0.1:5432 (ERPOPS_TEST_PG_URL) for the CLI's tests")
        pytest.skip("no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432")
    schema = "cli_" + uuid.uuid4().hex[:10]
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in server else "?"
    try:
        yield f"{server}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
