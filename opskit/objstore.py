"""Object storage shared by the tools: a local directory or an S3-compatible bucket, checksummed both ways.

Every `put` records the object's SHA-256 (S3 user metadata `sha256`, or a `<key>.sha256` file beside a
local object) and every `get` recomputes it, so a corrupted or truncated object is an error, never data.
boto3 is imported only when an S3 store is made. Leaf module: stdlib and third-party imports only.

    store = open_store("s3", bucket="erp-archive", prefix="p", endpoint_url="http://127.0.0.1:9000")
    info = store.put("batch/1/manifest.json", data)
    assert store.get("batch/1/manifest.json") == data
"""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opskit.errors import OpsError

SUFFIX = ".sha256"


class ObjectStoreError(OpsError):
    """An object is missing, unreadable, or does not match its recorded checksum."""

    code = "object_store"


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    sha256: str


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class ObjectStore(ABC):
    """Contract: keys are `/`-separated relative paths; `put` overwrites; `get` returns exactly the bytes put
    or raises ObjectStoreError; `head` is None for a missing key; `list` yields keys under a prefix, sorted,
    without checksum files; `delete` of a missing key is not an error."""

    url: str

    @abstractmethod
    def put(self, key: str, data: bytes) -> ObjectInfo: ...

    @abstractmethod
    def _read(self, key: str) -> tuple[bytes, str | None]: ...

    @abstractmethod
    def head(self, key: str) -> ObjectInfo | None: ...

    @abstractmethod
    def list(self, prefix: str = "") -> list[str]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def get(self, key: str) -> bytes:
        data, recorded = self._read(key)
        if recorded is None:
            raise ObjectStoreError(f"{self.url}/{key} has no recorded checksum; it was not written by erpops")
        if sha256(data) != recorded:
            raise ObjectStoreError(f"{self.url}/{key} does not match its checksum (sha256 {sha256(data)[:12]}, "
                                   f"recorded {recorded[:12]}): the object is corrupted")
        return data


class LocalStore(ObjectStore):
    """Objects as files under a directory."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = str(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ObjectStoreError(f"key {key!r} leaves the store {self.root}")
        return path

    def put(self, key: str, data: bytes) -> ObjectInfo:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        digest = sha256(data)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
        path.with_name(path.name + SUFFIX).write_text(digest)
        return ObjectInfo(key, len(data), digest)

    def _read(self, key: str) -> tuple[bytes, str | None]:
        path = self._path(key)
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ObjectStoreError(f"cannot read {path}: {exc.strerror}") from None
        check = path.with_name(path.name + SUFFIX)
        return data, check.read_text().strip() if check.is_file() else None

    def head(self, key: str) -> ObjectInfo | None:
        path = self._path(key)
        check = path.with_name(path.name + SUFFIX)
        if not path.is_file():
            return None
        return ObjectInfo(key, path.stat().st_size, check.read_text().strip() if check.is_file() else "")

    def list(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        keys = (p.relative_to(self.root).as_posix() for p in self.root.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and not k.endswith((SUFFIX, ".tmp")))

    def delete(self, key: str) -> None:
        path = self._path(key)
        for p in (path, path.with_name(path.name + SUFFIX)):
            p.unlink(missing_ok=True)


class S3Store(ObjectStore):
    """Objects in an S3-compatible bucket under a prefix; the checksum travels as user metadata."""

    def __init__(self, bucket: str, prefix: str = "", endpoint_url: str | None = None, region: str = "us-east-1",
                 access_key_id: str | None = None, secret_access_key: str | None = None,
                 verify_tls: bool = True, client: Any = None) -> None:
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        if client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            client = boto3.client("s3", endpoint_url=endpoint_url, region_name=region,
                                  aws_access_key_id=access_key_id, aws_secret_access_key=secret_access_key,
                                  verify=verify_tls, config=Config(retries={"max_attempts": 5, "mode": "standard"}))
        self.client = client

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _errors(self) -> tuple[type[BaseException], ...]:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        return (BotoCoreError, ClientError)

    def put(self, key: str, data: bytes) -> ObjectInfo:
        digest = sha256(data)
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, Metadata={"sha256": digest})
        except self._errors() as exc:
            raise ObjectStoreError(f"cannot write {self.url}/{key}: {exc}") from None
        return ObjectInfo(key, len(data), digest)

    def _read(self, key: str) -> tuple[bytes, str | None]:
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
            return reply["Body"].read(), reply.get("Metadata", {}).get("sha256")
        except self._errors() as exc:
            raise ObjectStoreError(f"cannot read {self.url}/{key}: {exc}") from None

    def head(self, key: str) -> ObjectInfo | None:
        try:
            reply = self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors():
            return None
        return ObjectInfo(key, int(reply["ContentLength"]), reply.get("Metadata", {}).get("sha256", ""))

    def list(self, prefix: str = "") -> list[str]:
        keys: list[str] = []
        skip = len(self.prefix) + 1 if self.prefix else 0
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket,
                                                                          Prefix=self._key(prefix))
            for page in pages:
                keys.extend(item["Key"][skip:] for item in page.get("Contents", []))
        except self._errors() as exc:
            raise ObjectStoreError(f"cannot list {self.url}: {exc}") from None
        return sorted(keys)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        except self._errors() as exc:
            raise ObjectStoreError(f"cannot delete {self.url}/{key}: {exc}") from None


def open_store(kind: str, path: Path | None = None, **s3: Any) -> ObjectStore:
    """A store by kind: `local` (a directory) or `s3` (bucket, prefix, endpoint_url, region, credentials)."""
    if kind == "local":
        if path is None:
            raise ObjectStoreError("a local object store needs a path")
        return LocalStore(path)
    if kind == "s3":
        return S3Store(**s3)
    raise ObjectStoreError(f"unknown object store kind {kind!r}; one of: local, s3")
