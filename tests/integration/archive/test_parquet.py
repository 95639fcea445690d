"""Parquet copies: written per batch, read back and re-hashed before any delete; a corrupted file stops the run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from archive.errors import VerificationFailed
from archive.parquet import ParquetStore, from_parquet
from archive.rowhash import digest
from archive.runner import Bounds, run_archive
from archive.settings import ParquetSettings
from archive.store import archive_batch
from archive.verify import verify
from tests.integration.archive.conftest import DOCUMENTS_PER_SIDE, Pair, S3Server, table_digests

FAMILIES = ["purchase_orders", "purchase_requisitions", "sales_orders"]
# three years of residence from here leave the documents of 2022's second half movable, not the run's default
# date (today's, which widened the run with each passing month: 150 s on PostgreSQL in a full `make test`)
TODAY_HALF = dt.date(2025, 12, 31)


def _sales_rows(pair: Pair) -> int:
    with pair.source.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM sales_order")).scalar_one())


def test_local_parquet_holds_every_archived_row(pair: Pair, tmp_path: Path) -> None:
    ax = pair.archive(parquet=ParquetSettings(kind="local", path=tmp_path / "pq"), batch_size=400)
    result = run_archive(ax, families=FAMILIES, today=TODAY_HALF)
    assert result.state == "done" and result.rows > 0
    with pair.source.connect() as conn:
        batches = conn.execute(select(archive_batch.c.id, archive_batch.c.parquet)
                               .where(archive_batch.c.state == "archived")).all()
    assert batches and all(location and location.endswith("manifest.json") for _, location in batches)
    table = ax.tables["sales_order"]
    files = sorted((tmp_path / "pq").glob("batch-*/sales_order.parquet"))
    from_files = sum((digest(table, from_parquet(table, f.read_bytes())) for f in files), start=digest(table, []))
    assert from_files == table_digests(pair.dest, ["sales_order"], dest=True)["sales_order"]
    assert verify(ax).ok
    (files[0]).write_bytes(files[0].read_bytes()[:-20] + b"x" * 20)  # bit rot in an archived file
    bad = verify(ax)
    assert not bad.ok and any("checksum" in b.reason for b in bad.batches if not b.ok)


def test_a_corrupted_parquet_read_back_deletes_nothing(pair: Pair, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    ax = pair.archive(parquet=ParquetSettings(kind="local", path=tmp_path / "pq"), batch_size=400)
    before = _sales_rows(pair)
    original_put = ax.parquet.store.put

    def put_then_rot(key: str, data: bytes) -> object:
        info = original_put(key, data)
        if key.endswith("sales_order.parquet"):  # the disk flips bytes after the write
            path = tmp_path / "pq" / key
            raw = bytearray(path.read_bytes())
            raw[len(raw) // 2] ^= 0xFF
            path.write_bytes(bytes(raw))
        return info

    monkeypatch.setattr(ax.parquet.store, "put", put_then_rot)
    with pytest.raises(VerificationFailed, match="checksum.*nothing was deleted"):
        run_archive(ax, families=FAMILIES, today=TODAY_HALF)
    assert _sales_rows(pair) == before
    monkeypatch.undo()
    with pair.dest.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ax.dest_tables["sales_order"])).scalar_one() > 0
    result = run_archive(ax, families=FAMILIES, today=TODAY_HALF)
    assert any("interrupted before its delete" in r for r in result.repairs)
    assert verify(ax).ok and _sales_rows(pair) < before


def test_parquet_on_s3_with_manifest(sqlite_pair: Pair, s3_server: S3Server) -> None:
    pair = sqlite_pair
    settings = ParquetSettings(kind="s3", bucket=s3_server.bucket, prefix="erp/archive",
                               endpoint_url=s3_server.endpoint, access_key_id="testing",
                               secret_access_key="testing")  # type: ignore[arg-type]
    ax = pair.archive(parquet=settings)
    result = run_archive(ax, families=["purchase_orders"], bounds=Bounds(max_rows=DOCUMENTS_PER_SIDE))
    assert result.rows > 0
    store = ParquetStore.from_settings(settings).store
    keys = store.list()
    assert any(k.endswith("manifest.json") for k in keys) and any(k.endswith("purchase_order.parquet") for k in keys)
    assert verify(ax).ok
