"""Parquet keeps every column's type: a batch read back hashes exactly as the rows written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from archive.errors import VerificationFailed
from archive.parquet import ParquetStore, from_parquet, to_parquet
from archive.rowhash import digest
from erpcore.models import metadata
from opskit.objstore import LocalStore

ORDER = metadata.tables["sales_order"]


def orders() -> list[dict[str, object]]:
    at = dt.datetime(2022, 3, 4, 5, 6, 7, 123456, tzinfo=dt.UTC)
    unset = dict.fromkeys(ORDER.columns.keys())  # columns the sample leaves empty (the schema grows)
    return [{**unset, "id": i, "number": f"SO-2022-{i:07d}", "customer_id": 3, "warehouse_id": 1,
             "order_date": dt.date(2022, 3, i), "status": "closed", "backorder_allowed": i % 2 == 0,
             "net_amount": Decimal("100.1234") * i, "tax_amount": 19.02 * i, "approved_at": at if i > 1 else None,
             "created_at": at, "created_by": None} for i in range(1, 4)]


@pytest.mark.parametrize("compression", ["zstd", "snappy", "none"])
def test_rows_read_back_hash_as_written(compression: str) -> None:
    data = to_parquet(ORDER, orders(), compression)
    back = from_parquet(ORDER, data)
    assert [r["number"] for r in back] == ["SO-2022-0000001", "SO-2022-0000002", "SO-2022-0000003"]
    assert back[0]["approved_at"] is None and back[1]["backorder_allowed"] is True
    assert back[2]["net_amount"] == Decimal("300.3702")
    assert digest(ORDER, back) == digest(ORDER, orders())


def test_naive_sqlite_timestamps_hash_like_their_utc_read_back() -> None:
    naive = [{**r, "created_at": dt.datetime(2022, 3, 4, 5, 6, 7), "approved_at": None} for r in orders()]
    assert digest(ORDER, from_parquet(ORDER, to_parquet(ORDER, naive, "zstd"))) == digest(ORDER, naive)


def test_a_batch_is_written_with_a_manifest_and_verified(tmp_path: Path) -> None:
    store = ParquetStore(LocalStore(tmp_path))
    rows = {"sales_order": orders()}
    location = store.write_batch(12, "sales_orders", metadata.tables, rows, {"sales_order": digest(ORDER, orders())})
    assert location == f"{tmp_path}/batch-0000000012/manifest.json"
    assert store.verify_batch(12, "sales_orders", metadata.tables, {"sales_order": digest(ORDER, orders()).hex}) == []
    wrong = store.verify_batch(12, "sales_orders", metadata.tables, {"sales_order": "0" * 32, "shipment": "1" * 32})
    assert len(wrong) == 2 and "expected 3 rows hash 000000000000" in wrong[0] and "not in the Parquet" in wrong[1]
    store.drop_batch(12)
    assert store.store.list() == []
    assert "manifest" in store.verify_batch(12, "sales_orders", metadata.tables, {})[0]


def test_a_batch_whose_files_do_not_match_their_digest_is_refused(tmp_path: Path) -> None:
    store = ParquetStore(LocalStore(tmp_path))
    claimed = digest(ORDER, orders()[:2])  # the source said two rows; three were written
    with pytest.raises(VerificationFailed, match="does not read back.*nothing was deleted"):
        store.write_batch(3, "sales_orders", metadata.tables, {"sales_order": orders()}, {"sales_order": claimed})
