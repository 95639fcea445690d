"""Object stores: bytes back exactly as put, or an error naming the corruption."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opskit.objstore import LocalStore, ObjectStore, ObjectStoreError, S3Store, open_store


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ObjectStore]:
    if request.param == "local":
        yield open_store("local", tmp_path / "objects")
        return
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="unit")
        yield S3Store("unit", prefix="p/q", client=client)


def test_put_get_head_list_delete(store: ObjectStore) -> None:
    info = store.put("batch-1/a.parquet", b"alpha")
    store.put("batch-1/manifest.json", b"{}")
    store.put("batch-2/a.parquet", b"beta")
    assert info.size == 5 and len(info.sha256) == 64
    assert store.get("batch-1/a.parquet") == b"alpha"
    head = store.head("batch-1/a.parquet")
    assert head is not None and head.sha256 == info.sha256
    assert store.head("nope") is None
    assert store.list("batch-1/") == ["batch-1/a.parquet", "batch-1/manifest.json"]
    store.delete("batch-1/a.parquet")
    store.delete("batch-1/a.parquet")
    assert store.list() == ["batch-1/manifest.json", "batch-2/a.parquet"]


def test_a_corrupted_local_object_is_an_error(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put("x/data.bin", b"0123456789")
    (tmp_path / "x" / "data.bin").write_bytes(b"0123456780")
    with pytest.raises(ObjectStoreError, match="does not match its checksum"):
        store.get("x/data.bin")
    (tmp_path / "x" / "other.bin").write_bytes(b"not ours")
    with pytest.raises(ObjectStoreError, match="no recorded checksum"):
        store.get("x/other.bin")


def test_a_corrupted_s3_object_is_an_error() -> None:
    import boto3
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="unit")
        store = S3Store("unit", client=client)
        store.put("k", b"payload")
        client.put_object(Bucket="unit", Key="k", Body=b"payloae", Metadata={"sha256": store.head("k").sha256})  # type: ignore[union-attr]
        with pytest.raises(ObjectStoreError, match="corrupted"):
            store.get("k")


def test_keys_cannot_leave_a_local_store(tmp_path: Path) -> None:
    with pytest.raises(ObjectStoreError, match="leaves the store"):
        LocalStore(tmp_path / "root").put("../escape", b"x")
    with pytest.raises(ObjectStoreError, match="unknown object store kind"):
        open_store("ftp")
