"""Database targets for tests: a temporary SQLite file, or a private schema on the test PostgreSQL.

PostgreSQL runs when ERPOPS_TEST_PG_URL is set or the default server answers; it never skips silently
then. Each database gets a random schema, so parallel runs and workers cannot collide.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine

from erpcore.db import make_engine
from erpcore.migrate import scratch_schema, upgrade

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def pg_url() -> str | None:
    """The PostgreSQL the tests use, or None when none is configured and the default does not answer."""
    url = os.environ.get("ERPOPS_TEST_PG_URL")
    if url:
        return url
    try:
        psycopg.connect(DEFAULT_PG, connect_timeout=2).close()
    except psycopg.OperationalError:
        return None
    return DEFAULT_PG


@contextmanager
def pg_schema_engine(url: str, migrate: bool = True, **kwargs: object) -> Iterator[Engine]:
    with scratch_schema(url, "t", migrate, **kwargs) as (engine, _name):
        yield engine


@contextmanager
def sqlite_engine(directory: Path, migrate: bool = True) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{directory / ('db_' + uuid.uuid4().hex[:8] + '.sqlite')}")
    try:
        if migrate:
            upgrade(engine)
        yield engine
    finally:
        engine.dispose()


@contextmanager
def engine_for(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        with sqlite_engine(tmp_path) as engine:
            yield engine
        return
    url = pg_url()
    if url is None:
        import pytest

        why = "no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432"
        if os.environ.get("CI"):  # `make test` starts one; in CI its absence is a failure, never a skip
            pytest.fail(why)
        pytest.skip(why)
    with pg_schema_engine(url) as engine:
        yield engine
