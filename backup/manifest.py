"""The manifest: one JSON document per backup, identical on every site, written after the data.

A backup exists on a site exactly when its manifest does; the files it lists are checked against
their sizes and SHA-256 by verify and by restore.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FORMAT_VERSION = 1
BACKUPS = "backups/"
WAL = "wal/"
Engine = Literal["postgresql", "sqlite"]
Kind = Literal["physical", "logical"]  # physical: base backup or SQLite file; logical: pg_dump -Fd


@dataclass(frozen=True)
class FileEntry:
    """One object of a backup as stored on the sites (after compression and encryption)."""

    name: str
    size: int
    sha256: str
    compression: str
    encrypted: bool


@dataclass(frozen=True)
class Manifest:
    backup_id: str
    engine: Engine
    started_at: str
    finished_at: str
    files: tuple[FileEntry, ...]
    compression: str
    key_id: str | None
    integrity: dict[str, str]
    sites: dict[str, str]
    start_lsn: str | None = None
    end_lsn: str | None = None
    timeline: int | None = None
    start_wal: str | None = None
    integrity_lsn: str | None = None
    server_version: str | None = None
    label: str = ""
    kind: Kind = "physical"
    integrity_point: str | None = None
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def degraded(self) -> bool:
        return any(state != "ok" for state in self.sites.values())

    @property
    def finished(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.finished_at)

    @property
    def started(self) -> dt.datetime:
        return dt.datetime.fromisoformat(self.started_at)

    def file(self, name: str) -> FileEntry:
        for entry in self.files:
            if entry.name == name:
                return entry
        raise KeyError(name)

    def to_json(self) -> bytes:
        data = asdict(self)
        data["degraded"] = self.degraded
        return json.dumps(data, indent=2, sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Manifest:
        data = json.loads(raw)
        data.pop("degraded", None)
        data["files"] = tuple(FileEntry(**f) for f in data["files"])
        return cls(**data)


def new_backup_id(now: dt.datetime | None = None) -> str:
    """Sortable by time, unique across concurrent runs: 20250101T120000Z-3fa2."""
    now = now or dt.datetime.now(dt.UTC)
    return now.strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(2)


def manifest_key(backup_id: str) -> str:
    return f"{BACKUPS}{backup_id}/manifest.json"


def file_key(backup_id: str, name: str) -> str:
    return f"{BACKUPS}{backup_id}/{name}"


def wal_key(segment: str, sha256: str) -> str:
    return f"{WAL}{segment}-{sha256}"


def parse_wal_key(key: str) -> tuple[str, str] | None:
    """(segment file name, sha256) from a WAL object key, or None for anything else."""
    if not key.startswith(WAL):
        return None
    name, _, sha = key[len(WAL) :].rpartition("-")
    if not name or len(sha) != 64:
        return None
    return name, sha
