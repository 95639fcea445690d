"""Fixtures for backup tests: moto S3 servers on loopback, and PostgreSQL clusters shipping WAL to the sites.

Directories the server touches live under a world-traversable temp dir, because the cluster runs as
the `postgres` OS user when the tests run as root.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from backup.walstream import WalStreamer
from opskit.pg import Cluster
from opskit.ports import free_port


@dataclass
class S3Server:
    endpoint: str
    bucket: str


def start_moto() -> tuple[object, S3Server]:
    import boto3
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    bucket = "erp-" + uuid.uuid4().hex[:8]
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    ).create_bucket(Bucket=bucket)
    return server, S3Server(endpoint, bucket)


@pytest.fixture(scope="module")
def s3_servers() -> Iterator[list[S3Server]]:
    """Two moto S3 servers, one per S3 site."""
    started = [start_moto() for _ in range(2)]
    try:
        yield [s for _srv, s in started]
    finally:
        for srv, _s in started:
            srv.stop()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def shared_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="erpops-backup-test-"))
    os.chmod(path, 0o777)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def site_toml(
    shared: Path, s3: list[S3Server], key_hex: str | None = None, local: int = 2, prefix: str = ""
) -> str:
    lines = ["[backup]", 'compression = "zstd"', "restore_concurrency = 4"]
    if key_hex:
        lines.append(f'encryption_key = "{key_hex}"')
    for i in range(local):
        path = shared / f"{prefix}site-local{i}"
        path.mkdir(exist_ok=True)
        os.chmod(path, 0o777)
        lines += ["[[backup.sites]]", f'name = "local{i}"', 'kind = "local"', f'path = "{path}"']
    for i, srv in enumerate(s3):
        lines += [
            "[[backup.sites]]",
            f'name = "s3{i}"',
            'kind = "s3"',
            f'endpoint_url = "{srv.endpoint}"',
            f'bucket = "{srv.bucket}"',
            f'prefix = "{prefix}erp"',
            'access_key_id = "testing"',
            'secret_access_key = "testing"',
            "part_size_mb = 5",
            "max_attempts = 3",
            "timeout_seconds = 10",
        ]
    return "\n".join(lines) + "\n"


def write_config(shared: Path, text: str, name: str = "erpops.toml") -> Path:
    path = shared / name
    path.write_text(text)
    os.chmod(path, 0o644)
    return path


def streaming_cluster(shared: Path, name: str = "primary") -> Cluster:
    """A primary ready for base backups and WAL streaming (pg_receivewal with a slot)."""
    cluster = Cluster(shared / "clusters" / name)
    cluster.initdb({"wal_level": "replica", "max_wal_senders": "6", "fsync": "off", "shared_buffers": "32MB"})
    cluster.start()
    return cluster


def ship_wal(url: str, streamer: WalStreamer, timeout: float = 60) -> str:
    """Switch to a new WAL segment and wait until the streamer has pushed the old one; returns its name."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_walfile_name(pg_switch_wal())").fetchone()
    assert row is not None
    streamer.wait_for(str(row[0]), timeout)
    return str(row[0])
