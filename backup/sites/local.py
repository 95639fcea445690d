"""A site on a local or mounted file system: write to a temporary name, fsync, check, rename."""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from backup.errors import SiteError
from backup.sites.base import CHUNK, ObjectInfo, ObjectWriter, Site

PARTIAL = ".partial-"


class LocalSite(Site):
    """Objects are files under `root`; a write becomes visible by an atomic rename."""

    def __init__(self, name: str, root: Path) -> None:
        self.name = name
        self.root = root

    def describe(self) -> str:
        return f"{self.name} ({self.root})"

    def _path(self, key: str) -> Path:
        if key.startswith("/") or ".." in key.split("/"):
            raise SiteError(f"site {self.name}: invalid key {key!r}")
        return self.root / key

    def writer(self, key: str) -> ObjectWriter:
        return _LocalWriter(self, key, self._path(key))

    def read(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        try:
            fh = path.open("rb")
        except OSError as exc:
            raise SiteError(f"site {self.name}: cannot read {key}: {exc.strerror}") from exc
        with fh:
            while chunk := fh.read(CHUNK):
                yield chunk

    def list_keys(self, prefix: str = "") -> dict[str, int]:
        base = self.root / prefix.rpartition("/")[0]
        if self.root.exists() and not self.root.is_dir():
            raise SiteError(f"site {self.name}: {self.root} is not a directory")
        if not base.is_dir():
            return {}
        found: dict[str, int] = {}
        for dirpath, _dirs, files in os.walk(base):
            for fname in files:
                if PARTIAL in fname:
                    continue
                full = Path(dirpath) / fname
                key = full.relative_to(self.root).as_posix()
                if key.startswith(prefix):
                    found[key] = full.stat().st_size
        return found

    def delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        parent = path.parent
        while parent != self.root and parent.is_dir() and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent


class _LocalWriter(ObjectWriter):
    def __init__(self, site: LocalSite, key: str, path: Path) -> None:
        self.site, self.key, self.path = site, key, path
        self.tmp = path.with_name(path.name + PARTIAL + uuid.uuid4().hex[:8])
        self.size = 0
        self.digest = hashlib.sha256()
        self.fh: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        if self.fh is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.fh = self.tmp.open("wb")
            except OSError as exc:
                raise SiteError(f"site {self.site.name}: cannot write {self.key}: {exc.strerror}") from exc
        return self.fh

    def write(self, chunk: bytes) -> None:
        fh = self._open()
        try:
            fh.write(chunk)
        except OSError as exc:
            raise SiteError(f"site {self.site.name}: write failed on {self.key}: {exc.strerror}") from exc
        self.size += len(chunk)
        self.digest.update(chunk)

    def commit(self) -> ObjectInfo:
        fh = self._open()
        try:
            fh.flush()
            os.fsync(fh.fileno())
            fh.close()
            stored = self.tmp.stat().st_size
            if stored != self.size:
                raise SiteError(f"site {self.site.name}: {self.key} stored {stored} bytes, wrote {self.size}")
            os.replace(self.tmp, self.path)
        except OSError as exc:
            self.abort()
            raise SiteError(f"site {self.site.name}: cannot commit {self.key}: {exc.strerror}") from exc
        return ObjectInfo(self.key, self.size, self.digest.hexdigest())

    def abort(self) -> None:
        if self.fh is not None and not self.fh.closed:
            self.fh.close()
        self.tmp.unlink(missing_ok=True)
