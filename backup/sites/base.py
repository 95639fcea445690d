"""The one interface every backup site implements, and the object facts it returns."""

from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

CHUNK = 1 << 20


@dataclass(frozen=True)
class ObjectInfo:
    """What a site holds under one key after a verified write."""

    key: str
    size: int
    sha256: str


class ObjectWriter(ABC):
    """A write in progress: `write` chunks in order, then `commit` (verify-after-write) or `abort`."""

    @abstractmethod
    def write(self, chunk: bytes) -> None: ...

    @abstractmethod
    def commit(self) -> ObjectInfo:
        """Make the object visible under its key and check it: size and checksum as the site stored them."""

    @abstractmethod
    def abort(self) -> None:
        """Drop what was written; the key stays as it was before."""


class Site(ABC):
    """A place backups live: a local path, an S3 bucket, or memory in tests.

    Contract: keys are relative, '/'-separated; an object becomes visible under its key only once
    complete and verified (never a half-written object under a final key); `read` streams the bytes
    of a visible object; `list` maps every key under a prefix to its size; `delete` is idempotent.
    Any failure of the store raises `SiteError` naming the site, so the caller can go on with others.
    """

    name: str

    @abstractmethod
    def writer(self, key: str) -> ObjectWriter: ...

    @abstractmethod
    def read(self, key: str) -> Iterator[bytes]: ...

    @abstractmethod
    def list_keys(self, prefix: str = "") -> dict[str, int]: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    def describe(self) -> str:
        return self.name

    def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        return self.put_chunks(key, [data])

    def put_chunks(self, key: str, chunks: Iterable[bytes]) -> ObjectInfo:
        writer = self.writer(key)
        try:
            for chunk in chunks:
                writer.write(chunk)
        except BaseException:
            writer.abort()
            raise
        return writer.commit()

    def put_file(self, key: str, path: Path) -> ObjectInfo:
        """Upload a file; stores that can (S3) resume an interrupted upload of the same file."""
        return self.put_chunks(key, file_chunks(path))

    def get_bytes(self, key: str) -> bytes:
        return b"".join(self.read(key))

    def sha256(self, key: str) -> tuple[int, str]:
        """Re-read an object: its size and SHA-256."""
        digest = hashlib.sha256()
        size = 0
        for chunk in self.read(key):
            digest.update(chunk)
            size += len(chunk)
        return size, digest.hexdigest()


def file_chunks(path: Path, chunk_size: int = CHUNK) -> Iterator[bytes]:
    with path.open("rb") as fh:
        while chunk := fh.read(chunk_size):
            yield chunk
