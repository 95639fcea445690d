"""Logical dumps: `pg_dump -Fd -j N` as an extra kind of backup, for bringing back one table or schema.

The dump runs in a snapshot exported by a REPEATABLE READ transaction, and the ERP integrity summary
is read in that same transaction, so the manifest describes exactly the data in the dump. pg_dump
writes its directory uncompressed (PostgreSQL 15's pg_dump offers only gzip); each file is then
compressed with the backup's codec (zstd or lz4), encrypted when a key is set, and written to every
site through the fan-out: one object per file, each with its size and SHA-256 in the manifest.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from sqlalchemy.engine import make_url

from backup.create import BackupResult, _finish, _write_file, utcnow
from backup.errors import BackupError, UsageError
from backup.fanout import FanOutResult, ProgressFn
from backup.manifest import FileEntry, new_backup_id
from backup.pgtools import SUFFIX, conn_from_url
from backup.settings import BackupSettings
from backup.sites.base import Site, file_chunks
from opskit.pg import pg_bin_dir

DUMP_DIR = "dump/"
COMPRESS = {"zstd": ["zstd", "-q", "-c", "-3"], "lz4": ["lz4", "-q", "-c"]}


def create_logical(
    settings: BackupSettings,
    sites: Sequence[Site],
    progress: ProgressFn | None = None,
    label: str = "",
    jobs: int | None = None,
) -> BackupResult:
    """Dump the ERP database with `pg_dump -Fd -j jobs` and write the dump to every site."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from backup.integrity import integrity_summary
    from erpcore.db import make_engine

    if not sites:
        raise BackupError("no backup sites configured (backup.sites)")
    url = settings.effective_database_url()
    if make_url(url).get_backend_name() != "postgresql":
        raise UsageError(
            "logical dumps are for PostgreSQL; a SQLite backup already is the whole database file"
        )
    jobs = settings.dump_jobs if jobs is None else jobs
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    began, started = time.monotonic(), utcnow()
    backup_id = new_backup_id(started)
    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            lsn = str(conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar_one())
            version = str(conn.execute(text("SHOW server_version")).scalar_one())
            try:  # a database without the ERP schema must not abort the snapshot's transaction
                with conn.begin_nested():
                    summary = integrity_summary(conn)
            except SQLAlchemyError as exc:
                summary = {"unavailable": str(getattr(exc, "orig", exc)).splitlines()[0]}
            with tempfile.TemporaryDirectory(prefix="erpops-dump-") as tmp:
                dump_dir = Path(tmp) / "dump"
                run_pg_dump(url, settings, dump_dir, jobs, snapshot)
                conn.rollback()  # the snapshot may go: pg_dump's workers hold their own copies of it
                writes, entries = _store(backup_id, dump_dir, settings, sites, progress)
    finally:
        engine.dispose()
    fields: dict[str, object] = {
        "backup_id": backup_id,
        "engine": "postgresql",
        "kind": "logical",
        "label": label,
        "started_at": started.isoformat(),
        "finished_at": utcnow().isoformat(),
        "integrity": summary,
        "integrity_lsn": lsn,
        "server_version": version,
        "extra": {"database": make_url(url).database or "postgres", "jobs": jobs, "format": "pg_dump -Fd"},
    }
    return _finish(settings, sites, writes, entries, fields, began)


def run_pg_dump(url: str, settings: BackupSettings, target: Path, jobs: int, snapshot: str) -> None:
    conn = conn_from_url(url)
    command = [
        str(pg_bin_dir(settings.pg_bin_dir) / "pg_dump"),
        *conn.args,
        "-d",
        conn.dbname,
        "-Fd",
        "-j",
        str(jobs),
        "-Z",
        "0",
        "--snapshot",
        snapshot,
        "-f",
        str(target),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, env=conn.env, check=False, timeout=24 * 3600
    )
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def _store(
    backup_id: str,
    dump_dir: Path,
    settings: BackupSettings,
    sites: Sequence[Site],
    progress: ProgressFn | None,
) -> tuple[list[FanOutResult], list[FileEntry]]:
    """Every file of the dump directory, compressed, to every site; a site that fails is not asked again."""
    writes: list[FanOutResult] = []
    entries: list[FileEntry] = []
    healthy = list(sites)
    for path in sorted(p for p in dump_dir.iterdir() if p.is_file()):
        name = DUMP_DIR + path.name + SUFFIX[settings.compression]
        write, entry = _write_file(
            backup_id,
            name,
            compressed(path, settings.compression),
            settings,
            healthy,
            progress,
            settings.compression,
        )
        writes.append(write)
        entries.append(entry)
        healthy = [s for s in healthy if s.name not in write.failed]
        if not healthy:
            break
    return writes, entries


def compressed(path: Path, compression: str) -> Iterator[bytes]:
    """The bytes of `path` through the zstd or lz4 command (or as they are for "none")."""
    if compression not in COMPRESS:
        yield from file_chunks(path)
        return
    with path.open("rb") as src:
        proc = subprocess.Popen(
            COMPRESS[compression], stdin=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stderr is not None
        try:
            while chunk := proc.stdout.read(1 << 20):
                yield chunk
        finally:
            proc.stdout.close()
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            code = proc.wait()
    if code != 0:
        raise BackupError(f"{compression} failed on {path.name} (exit {code}): {err.strip()[:200]}")
