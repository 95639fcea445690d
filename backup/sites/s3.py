"""A site in an S3-compatible bucket: multipart uploads with retries, verify-after-write, resume, ranged reads.

Every call goes through `_retry`: throttling, timeouts and dropped connections are retried with
exponential back-off and jitter (botocore's own retries are off so the policy lives in one place).
A multipart upload of a file resumes: parts the store already holds with a matching MD5 are kept.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from backup.errors import SiteError
from backup.settings import SiteSettings
from backup.sites.base import ObjectInfo, ObjectWriter, Site

T = TypeVar("T")
MiB = 1 << 20
RETRYABLE_CODES = {
    "SlowDown",
    "Throttling",
    "ThrottlingException",
    "RequestTimeout",
    "RequestTimeTooSkewed",
    "InternalError",
    "ServiceUnavailable",
    "503",
    "500",
    "TooManyRequests",
}


@dataclass
class S3Stats:
    """Counters a test or a progress line can read."""

    parts_uploaded: int = 0
    parts_reused: int = 0
    retries: int = 0
    ranged_gets: int = 0
    errors: list[str] = field(default_factory=list)


def multipart_etag(part_md5s: list[bytes]) -> str:
    """The ETag S3 gives a multipart object: MD5 of the parts' MD5s, dash, part count."""
    return f'"{hashlib.md5(b"".join(part_md5s)).hexdigest()}-{len(part_md5s)}"'


class S3Site(Site):
    """Objects in `bucket` under `prefix`."""

    def __init__(self, settings: SiteSettings, client: Any = None) -> None:
        self.name = settings.name
        self.settings = settings
        self.bucket = settings.bucket or ""
        self.prefix = settings.prefix.strip("/") + "/" if settings.prefix.strip("/") else ""
        self.part_size = settings.part_size_mb * MiB
        self.stats = S3Stats()
        self._client = client

    def describe(self) -> str:
        return f"{self.name} (s3://{self.bucket}/{self.prefix})"

    @property
    def client(self) -> Any:
        if self._client is None:
            import boto3  # type: ignore[import-untyped]
            from botocore.config import Config  # type: ignore[import-untyped]

            s = self.settings
            self._client = boto3.session.Session().client(
                "s3",
                endpoint_url=s.endpoint_url,
                region_name=s.region,
                verify=s.verify_tls,
                aws_access_key_id=s.access_key_id,
                aws_secret_access_key=s.secret_access_key.get_secret_value() if s.secret_access_key else None,
                config=Config(
                    retries={"total_max_attempts": 1},
                    connect_timeout=min(s.timeout_seconds, 10),
                    read_timeout=s.timeout_seconds,
                    max_pool_connections=max(10, s.concurrency * 2),
                    # No aws-chunked uploads with CRC trailers (botocore's default since 1.36 over HTTPS):
                    # many S3-compatible stores reject them, and every object is checked by size and MD5
                    # ETag after write and by SHA-256 on read anyway.
                    request_checksum_calculation="when_required",
                    response_checksum_validation="when_required",
                ),
            )
        return self._client

    def _key(self, key: str) -> str:
        return self.prefix + key

    def _retry(self, what: str, fn: Callable[[], T]) -> T:
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        attempts = self.settings.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                return fn()
            except ClientError as exc:
                code = str(exc.response.get("Error", {}).get("Code", ""))
                if code not in RETRYABLE_CODES or attempt == attempts:
                    raise SiteError(f"site {self.name}: {what}: {code or exc}") from exc
                reason = code
            except BotoCoreError as exc:
                if attempt == attempts:
                    raise SiteError(f"site {self.name}: {what}: {exc}") from exc
                reason = type(exc).__name__
            self.stats.retries += 1
            self.stats.errors.append(f"{what}: {reason}")
            time.sleep(min(5.0, 0.1 * 2**attempt) * (0.5 + random.random() / 2))
        raise AssertionError("unreachable")

    def writer(self, key: str) -> ObjectWriter:
        return _S3Writer(self, key)

    def read(self, key: str) -> Iterator[bytes]:
        full = self._key(key)
        head = self._retry(f"head {key}", lambda: self.client.head_object(Bucket=self.bucket, Key=full))
        size = int(head["ContentLength"])
        step = self.part_size
        if size <= step:
            yield self._get_range(full, None)
            return
        starts = deque(range(0, size, step))
        pending: deque[Future[bytes]] = deque()
        with ThreadPoolExecutor(self.settings.concurrency) as pool:
            try:
                while starts or pending:
                    while starts and len(pending) < self.settings.concurrency + 1:
                        start = starts.popleft()
                        rng = f"bytes={start}-{min(start + step, size) - 1}"
                        pending.append(pool.submit(self._get_range, full, rng))
                    yield pending.popleft().result()
            finally:
                for fut in pending:
                    fut.cancel()

    def _get_range(self, full: str, rng: str | None) -> bytes:
        def get() -> bytes:
            args: dict[str, Any] = {"Bucket": self.bucket, "Key": full}
            if rng:
                args["Range"] = rng
            body: bytes = self.client.get_object(**args)["Body"].read()
            return body

        self.stats.ranged_gets += 1
        return self._retry(f"get {full} {rng or ''}", get)

    def list_keys(self, prefix: str = "") -> dict[str, int]:
        def run() -> dict[str, int]:
            found: dict[str, int] = {}
            pages = self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self._key(prefix)
            )
            for page in pages:
                for obj in page.get("Contents", []):
                    found[obj["Key"][len(self.prefix) :]] = int(obj["Size"])
            return found

        return self._retry(f"list {prefix}", run)

    def delete(self, key: str) -> None:
        self._retry(
            f"delete {key}", lambda: self.client.delete_object(Bucket=self.bucket, Key=self._key(key))
        )

    def verify_stored(self, key: str, size: int, etag: str) -> None:
        """Verify-after-write: the store reports the size and ETag (MD5-based) we computed."""
        head = self._retry(
            f"head {key}", lambda: self.client.head_object(Bucket=self.bucket, Key=self._key(key))
        )
        if int(head["ContentLength"]) != size or head["ETag"] != etag:
            raise SiteError(
                f"site {self.name}: {key} failed verify-after-write "
                f"(stored {head['ContentLength']} bytes ETag {head['ETag']}, expected {size} bytes ETag {etag})"
            )

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        """Upload a file, resuming an earlier interrupted multipart upload of the same key."""
        size = path.stat().st_size
        if size <= self.part_size:
            return super().put_file(key, path)
        full = self._key(key)
        upload_id, stored = self._find_upload(full)
        if upload_id is None:
            upload_id = self._retry(
                f"start upload {key}",
                lambda: self.client.create_multipart_upload(Bucket=self.bucket, Key=full)["UploadId"],
            )
        digest = hashlib.sha256()
        md5s: list[bytes] = []
        with path.open("rb") as fh:
            number = 0
            while data := fh.read(self.part_size):
                number += 1
                digest.update(data)
                md5 = hashlib.md5(data).digest()
                md5s.append(md5)
                if stored.get(number) == (f'"{md5.hex()}"', len(data)):
                    self.stats.parts_reused += 1
                    continue
                self._upload_part(full, upload_id, number, data)
        self._complete(full, upload_id, md5s)
        self.verify_stored(key, size, multipart_etag(md5s))
        return ObjectInfo(key, size, digest.hexdigest())

    def _find_upload(self, full: str) -> tuple[str | None, dict[int, tuple[str, int]]]:
        uploads = self._retry(
            f"list uploads {full}",
            lambda: self.client.list_multipart_uploads(Bucket=self.bucket, Prefix=full).get("Uploads", []),
        )
        mine = sorted((u for u in uploads if u["Key"] == full), key=lambda u: u["Initiated"])
        if not mine:
            return None, {}
        upload_id = str(mine[-1]["UploadId"])
        parts = self._retry(
            f"list parts {full}",
            lambda: self.client.list_parts(Bucket=self.bucket, Key=full, UploadId=upload_id).get("Parts", []),
        )
        return upload_id, {int(p["PartNumber"]): (str(p["ETag"]), int(p["Size"])) for p in parts}

    def _upload_part(self, full: str, upload_id: str, number: int, data: bytes) -> str:
        def put() -> str:
            return str(
                self.client.upload_part(
                    Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=number, Body=data
                )["ETag"]
            )

        etag = self._retry(f"upload part {number} of {full}", put)
        expected = f'"{hashlib.md5(data).hexdigest()}"'
        if etag != expected:
            raise SiteError(
                f"site {self.name}: part {number} of {full} stored with ETag {etag}, sent {expected}"
            )
        self.stats.parts_uploaded += 1
        return etag

    def _complete(self, full: str, upload_id: str, md5s: list[bytes]) -> None:
        parts = [{"PartNumber": i + 1, "ETag": f'"{m.hex()}"'} for i, m in enumerate(md5s)]
        self._retry(
            f"complete {full}",
            lambda: self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=full, UploadId=upload_id, MultipartUpload={"Parts": parts}
            ),
        )

    def abort_upload(self, full: str, upload_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)


class _S3Writer(ObjectWriter):
    """Buffers to part size; small objects go in one PUT, large ones as a multipart upload."""

    def __init__(self, site: S3Site, key: str) -> None:
        self.site, self.key, self.full = site, key, site._key(key)
        self.buffer = bytearray()
        self.size = 0
        self.digest = hashlib.sha256()
        self.md5s: list[bytes] = []
        self.upload_id: str | None = None
        self.pool: ThreadPoolExecutor | None = None
        self.inflight: deque[Future[str]] = deque()

    def write(self, chunk: bytes) -> None:
        self.buffer += chunk
        self.size += len(chunk)
        self.digest.update(chunk)
        while len(self.buffer) >= self.site.part_size:
            part = bytes(self.buffer[: self.site.part_size])
            del self.buffer[: self.site.part_size]
            self._send(part)

    def _send(self, part: bytes) -> None:
        site = self.site
        if self.upload_id is None:
            self.upload_id = site._retry(
                f"start upload {self.key}",
                lambda: site.client.create_multipart_upload(Bucket=site.bucket, Key=self.full)["UploadId"],
            )
            self.pool = ThreadPoolExecutor(site.settings.concurrency)
        assert self.pool is not None
        self.md5s.append(hashlib.md5(part).digest())
        number, upload_id = len(self.md5s), self.upload_id
        self.inflight.append(self.pool.submit(site._upload_part, self.full, upload_id, number, part))
        while len(self.inflight) >= site.settings.concurrency:
            self.inflight.popleft().result()

    def commit(self) -> ObjectInfo:
        site = self.site
        try:
            if self.upload_id is None:
                data = bytes(self.buffer)
                site._retry(
                    f"put {self.key}",
                    lambda: site.client.put_object(Bucket=site.bucket, Key=self.full, Body=data),
                )
                etag = f'"{hashlib.md5(data).hexdigest()}"'
            else:
                if self.buffer:
                    self._send(bytes(self.buffer))
                while self.inflight:
                    self.inflight.popleft().result()
                site._complete(self.full, self.upload_id, self.md5s)
                etag = multipart_etag(self.md5s)
            site.verify_stored(self.key, self.size, etag)
        except BaseException:
            self.abort()
            raise
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True)
        return ObjectInfo(self.key, self.size, self.digest.hexdigest())

    def abort(self) -> None:
        for fut in self.inflight:
            fut.cancel()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.upload_id is not None:
            self.site.abort_upload(self.full, self.upload_id)
            self.upload_id = None
