"""The in-memory fake site for tests, with switches to make it fail or rot like a real store."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from backup.errors import SiteError
from backup.sites.base import CHUNK, ObjectInfo, ObjectWriter, Site


class MemorySite(Site):
    """Objects in a dict; `down` fails every call, `fail_after_bytes` fails a write part-way."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.objects: dict[str, bytes] = {}
        self.down = False
        self.fail_after_bytes: int | None = None
        self.writes = 0

    def _check(self) -> None:
        if self.down:
            raise SiteError(f"site {self.name}: unreachable")

    def writer(self, key: str) -> ObjectWriter:
        self._check()
        return _MemoryWriter(self, key)

    def read(self, key: str) -> Iterator[bytes]:
        self._check()
        if key not in self.objects:
            raise SiteError(f"site {self.name}: no object {key}")
        data = self.objects[key]
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]

    def list_keys(self, prefix: str = "") -> dict[str, int]:
        self._check()
        return {k: len(v) for k, v in self.objects.items() if k.startswith(prefix)}

    def delete(self, key: str) -> None:
        self._check()
        self.objects.pop(key, None)

    def corrupt(self, key: str) -> None:
        """Flip one byte in the middle of an object, as bit rot would."""
        data = bytearray(self.objects[key])
        data[len(data) // 2] ^= 0xFF
        self.objects[key] = bytes(data)


class _MemoryWriter(ObjectWriter):
    def __init__(self, site: MemorySite, key: str) -> None:
        self.site, self.key = site, key
        self.parts: list[bytes] = []
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self.site._check()
        limit = self.site.fail_after_bytes
        if limit is not None and self.size + len(chunk) > limit:
            raise SiteError(f"site {self.site.name}: connection lost after {self.size} bytes of {self.key}")
        self.parts.append(chunk)
        self.size += len(chunk)

    def commit(self) -> ObjectInfo:
        self.site._check()
        data = b"".join(self.parts)
        self.site.objects[self.key] = data
        self.site.writes += 1
        return ObjectInfo(self.key, len(data), hashlib.sha256(data).hexdigest())

    def abort(self) -> None:
        self.parts.clear()
