"""Fixtures for archive tests: a seeded production database and an empty archive on each backend."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from archive.context import Archive, open_archive
from archive.rowhash import Digest, digest
from archive.settings import ArchiveSettings
from tests.dbhelpers import pg_database_engine, pg_schema_engine, pg_url, sqlite_engine

TODAY = dt.date(2026, 6, 30)
CLOSED_THROUGH = dt.date(2024, 12, 31)
DOCUMENTS_PER_SIDE = 200


@dataclass
class Pair:
    source: Engine
    dest: Engine
    backend: str

    def archive(self, **settings: object) -> Archive:
        base: dict[str, object] = {"closed_through": CLOSED_THROUGH, "batch_size": 100}
        base.update(settings)
        return open_archive(ArchiveSettings(**base), source=self.source, dest=self.dest)  # type: ignore[arg-type]


SEEDED = "seeded4y"  # the template key of the seeded production database


def seed_into(engine: Engine, days: int = 4 * 365, orders_per_day: int = 2) -> None:
    from erpcore.seed import seed

    seed(engine, 1, orders_per_day, 7, end=TODAY, days=days)


@contextmanager
def make_pair(backend: str, tmp_path: Path) -> Iterator[Pair]:
    """A seeded production database (four years to TODAY) and an empty archive beside it."""
    if backend == "sqlite":
        with sqlite_engine(tmp_path, key=SEEDED, build=seed_into) as source, \
                sqlite_engine(tmp_path, migrate=False) as dest:
            yield Pair(source, dest, backend)
        return
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL answers on 127.0.0.1:5432")
    with pg_database_engine(url, SEEDED, seed_into) as source, \
            pg_schema_engine(source.url.render_as_string(hide_password=False), migrate=False) as dest:
        yield Pair(source, dest, backend)  # the archive schema in the source's database: batches move in the server


@pytest.fixture
def pair(backend: str, tmp_path: Path) -> Iterator[Pair]:
    with make_pair(backend, tmp_path) as made:
        yield made


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[Pair]:
    with make_pair("sqlite", tmp_path) as made:
        yield made


def table_digests(engine: Engine, tables: list[str], dest: bool = False) -> dict[str, Digest]:
    """Per table: count and order-independent hash of every row (the archive's batch column left out)."""
    from erpcore.models import metadata

    out = {}
    with engine.connect() as conn:
        existing = set(conn.dialect.get_table_names(conn))
        for name in tables:
            table = metadata.tables[name]
            if dest and name not in existing:
                out[name] = Digest()
                continue
            out[name] = digest(table, (dict(r._mapping) for r in conn.execute(select(table))))
    return out


@dataclass
class S3Server:
    endpoint: str
    bucket: str


@pytest.fixture(scope="module")
def s3_server() -> Iterator[S3Server]:
    """A moto S3 server on a free loopback port with one fresh bucket."""
    import uuid

    import boto3
    from moto.server import ThreadedMotoServer

    from opskit.ports import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint, bucket = f"http://127.0.0.1:{port}", "archive-" + uuid.uuid4().hex[:8]
        boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="testing",
                     aws_secret_access_key="testing").create_bucket(Bucket=bucket)
        yield S3Server(endpoint, bucket)
    finally:
        server.stop()
