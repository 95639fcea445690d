"""Take one backup of the ERP database and write it to every site at once.

PostgreSQL: one `pg_basebackup` (one checkpoint, one start LSN) streamed through the fan-out.
SQLite: a snapshot through the online backup API, then the same fan-out. The manifest goes last,
only to the sites that took every file, so a site never shows a backup it does not fully hold.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from backup.crypto import encrypt_stream, key_id
from backup.errors import BackupError
from backup.fanout import FanOutResult, ProgressFn, fan_out
from backup.manifest import FileEntry, Manifest, file_key, manifest_key, new_backup_id
from backup.settings import BackupSettings
from backup.sites.base import Site, file_chunks


@dataclass(frozen=True)
class BackupResult:
    """What `create` did, per site, and why the backup counts as good or degraded."""

    manifest: Manifest
    size: int
    seconds: float
    reason: str

    @property
    def degraded(self) -> bool:
        return self.manifest.degraded

    @property
    def ok_sites(self) -> list[str]:
        return [name for name, state in self.manifest.sites.items() if state == "ok"]


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def create_backup(
    settings: BackupSettings, sites: Sequence[Site], progress: ProgressFn | None = None, label: str = ""
) -> BackupResult:
    """Back up the configured database to all `sites`; raises only when no site took the backup."""
    if not sites:
        raise BackupError("no backup sites configured (backup.sites)")
    url = settings.effective_database_url()
    if make_url(url).get_backend_name() == "sqlite":
        return _create_sqlite(settings, url, sites, progress, label)
    return _create_postgres(settings, url, sites, progress, label)


def _protect(chunks: Iterable[bytes], settings: BackupSettings) -> Iterable[bytes]:
    key = settings.key_bytes()
    return encrypt_stream(chunks, key) if key else chunks


def _finish(
    settings: BackupSettings,
    sites: Sequence[Site],
    writes: list[FanOutResult],
    entries: list[FileEntry],
    fields: dict[str, object],
    started: float,
) -> BackupResult:
    states = {site.name: "ok" for site in sites}
    for write in writes:
        for name, error in write.failed.items():
            if states[name] == "ok":
                states[name] = f"failed: {error}"
    key = settings.key_bytes()
    manifest = Manifest(
        files=tuple(entries),
        compression=settings.compression if fields.get("engine") == "postgresql" else "none",
        key_id=key_id(key) if key else None,
        sites=states,
        **fields,  # type: ignore[arg-type]
    )
    good = [s for s in sites if states[s.name] == "ok"]
    if not good:
        raise BackupError(f"backup {manifest.backup_id} failed on every site: {states}")
    result = fan_out([manifest.to_json()], manifest_key(manifest.backup_id), good)
    for name, error in result.failed.items():
        states[name] = f"failed: manifest: {error}"
    size = sum(e.size for e in entries)
    failed = [n for n, s in states.items() if s != "ok"]
    reason = (
        f"backup {manifest.backup_id} written to all {len(sites)} sites"
        if not failed
        else f"backup {manifest.backup_id} degraded: {len(failed)} of {len(sites)} sites failed ({', '.join(failed)})"
    )
    return BackupResult(manifest, size, time.monotonic() - started, reason)


def _write_file(
    backup_id: str,
    name: str,
    chunks: Iterable[bytes],
    settings: BackupSettings,
    sites: Sequence[Site],
    progress: ProgressFn | None,
    compression: str,
) -> tuple[FanOutResult, FileEntry]:
    result = fan_out(_protect(chunks, settings), file_key(backup_id, name), sites, progress)
    entry = FileEntry(name, result.size, result.sha256, compression, settings.key_bytes() is not None)
    return result, entry


def _create_postgres(
    settings: BackupSettings, url: str, sites: Sequence[Site], progress: ProgressFn | None, label: str
) -> BackupResult:
    from backup.estimate import DATABASE_BYTES, cluster_bytes
    from backup.pgtools import SUFFIX, BaseBackupStream, segment_name
    from opskit.pg import pg_bin_dir

    began, started = time.monotonic(), utcnow()
    backup_id = new_backup_id(started)
    database_bytes = cluster_bytes(url)  # the next backup's progress estimate scales from this
    stream = BaseBackupStream(url, settings.compression, pg_bin_dir(settings.pg_bin_dir), label or backup_id)
    name = "base.tar" + SUFFIX[settings.compression]
    write, entry = _write_file(
        backup_id, name, stream.chunks(), settings, sites, progress, settings.compression
    )
    finished = utcnow()
    summary, summary_lsn, point, version = _pg_facts(url, f"erpops-{backup_id}")
    fields: dict[str, object] = {
        "backup_id": backup_id,
        "engine": "postgresql",
        "label": label,
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat(),
        "start_lsn": stream.start_lsn,
        "end_lsn": stream.end_lsn,
        "timeline": stream.timeline,
        "start_wal": segment_name(stream.start_lsn, stream.timeline),
        "integrity": summary,
        "integrity_lsn": summary_lsn,
        "integrity_point": point,
        "server_version": version,
        "extra": {DATABASE_BYTES: database_bytes} if database_bytes else {},
    }
    return _finish(settings, sites, [write], [entry], fields, began)


def _pg_facts(url: str, point_name: str) -> tuple[dict[str, str], str, str | None, str]:
    """The integrity summary, the WAL position it holds at, the restore point there (if any), the version.

    Exact even under concurrent writes: the summary's tables are locked in SHARE mode (writers wait,
    readers do not) before the REPEATABLE READ snapshot is taken, and a named restore point is written
    while the locks are held, so recovering to that point reproduces exactly the summarised data.
    Without the privilege for restore points (superuser), or when the locks do not come within
    `lock_timeout`, the summary is taken unlocked and the manifest has no `integrity_point`.
    """
    from sqlalchemy import text

    from backup.integrity import integrity_summary
    from backup.pointsummary import summary_at_restore_point
    from erpcore.db import make_engine

    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            version = str(conn.execute(text("SHOW server_version")).scalar_one())
        exact = summary_at_restore_point(engine, point_name)
        if exact is not None:
            return exact.summary, exact.lsn, exact.point, version
        with engine.connect() as conn:
            lsn = str(conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one())
        return _summary_or_reason(integrity_summary, engine), lsn, None, version
    finally:
        engine.dispose()


def _summary_or_reason(summary: Callable[[Any], dict[str, str]], engine: Any) -> dict[str, str]:
    """The summary, or why there is none (a database without the ERP schema still gets backed up)."""
    from sqlalchemy.exc import SQLAlchemyError

    try:
        return summary(engine)
    except SQLAlchemyError as exc:
        return {"unavailable": str(exc.orig if hasattr(exc, "orig") else exc).splitlines()[0]}


def _create_sqlite(
    settings: BackupSettings, url: str, sites: Sequence[Site], progress: ProgressFn | None, label: str
) -> BackupResult:
    from backup.integrity import integrity_summary
    from erpcore.db import make_engine

    database = make_url(url).database
    if not database or not Path(database).is_file():
        raise BackupError(f"SQLite database {database!r} does not exist")
    began, started = time.monotonic(), utcnow()
    backup_id = new_backup_id(started)
    with tempfile.TemporaryDirectory(prefix="erpops-backup-") as tmp:
        snapshot = Path(tmp) / "database.sqlite"
        online_copy(Path(database), snapshot)
        engine = make_engine(f"sqlite:///{snapshot}")
        try:
            summary = _summary_or_reason(integrity_summary, engine)
        finally:
            engine.dispose()
        write, entry = _write_file(
            backup_id, "database.sqlite", file_chunks(snapshot), settings, sites, progress, "none"
        )
    fields: dict[str, object] = {
        "backup_id": backup_id,
        "engine": "sqlite",
        "label": label,
        "started_at": started.isoformat(),
        "finished_at": utcnow().isoformat(),
        "integrity": summary,
        "server_version": sqlite3.sqlite_version,
    }
    return _finish(settings, sites, [write], [entry], fields, began)


def online_copy(source: Path, target: Path, pages_per_step: int = 4096) -> None:
    """A consistent copy of a live SQLite database through its online backup API."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=pages_per_step)
    finally:
        dst.close()
        src.close()


def chunked(data: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]
