"""Restore a logical dump (or only some tables or schemas of it) into a new database beside the live one.

The dump's files come from whichever site has a healthy copy (checked against the manifest's SHA-256,
decrypted and decompressed on the fly, several files at once), then `pg_restore -j N` loads them into
a database created for the purpose on the live server. The live database is never written to.
"""

from __future__ import annotations

import re
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from backup.catalog import BackupEntry, read_catalog
from backup.errors import BackupError, CorruptObject, UsageError
from backup.logical import DUMP_DIR
from backup.manifest import FileEntry
from backup.pgtools import DECOMPRESS, SUFFIX, conn_from_url
from backup.restore import check_key, from_any_site
from backup.settings import BackupSettings
from backup.sites.base import Site
from opskit.pg import pg_bin_dir

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass
class DumpRestoreResult:
    backup_id: str
    database: str
    tables: dict[str, int]
    seconds: float
    reason: str
    skipped: dict[str, str] = field(default_factory=dict)


def restore_dump(
    settings: BackupSettings,
    sites: Sequence[Site],
    into_database: str,
    tables: Sequence[str] = (),
    schemas: Sequence[str] = (),
    backup_id: str | None = None,
    jobs: int | None = None,
) -> DumpRestoreResult:
    """Load the logical dump (all of it, or only `tables` / `schemas`) into the new database `into_database`."""
    for name in [into_database, *tables, *schemas]:
        if not NAME.match(name):
            raise UsageError(f"not a plain SQL name: {name!r}")
    jobs = settings.dump_jobs if jobs is None else jobs
    if jobs < 1:
        raise UsageError(f"--jobs must be at least 1, got {jobs}")
    live_url = settings.effective_database_url()
    if make_url(live_url).get_backend_name() != "postgresql":
        raise BackupError("logical dumps restore into PostgreSQL only")
    began = time.monotonic()
    backup = read_catalog(sites, with_wal=False).backup(backup_id, kind="logical")
    key = settings.key_bytes()
    check_key(backup.manifest, key)
    _refuse_existing_database(live_url, into_database)
    with tempfile.TemporaryDirectory(prefix="erpops-dump-restore-") as tmp:
        dump_dir = Path(tmp) / "dump"
        dump_dir.mkdir()
        skipped = fetch_dump(sites, backup, dump_dir, key, settings.restore_concurrency)
        _run(live_url, f'CREATE DATABASE "{into_database}"')
        try:
            needed = schemas_to_create(dump_dir, settings, tables, schemas)
            if needed:
                _run(
                    make_url(live_url).set(database=into_database).render_as_string(hide_password=False),
                    "; ".join(f'CREATE SCHEMA IF NOT EXISTS "{s}"' for s in needed),
                )
            run_pg_restore(live_url, settings, dump_dir, into_database, tables, schemas, jobs)
        except BaseException:
            _run(live_url, f'DROP DATABASE IF EXISTS "{into_database}"')
            raise
    target_url = make_url(live_url).set(database=into_database).render_as_string(hide_password=False)
    counts = row_counts(target_url, schemas, tables)
    what = ", ".join(f"{t} ({n} rows)" for t, n in counts.items()) or "no tables"
    return DumpRestoreResult(
        backup.backup_id,
        into_database,
        counts,
        time.monotonic() - began,
        f"restored {what} from logical backup {backup.backup_id} into database {into_database}"
        + (f"; skipped unhealthy copies: {skipped}" if skipped else ""),
        skipped,
    )


def fetch_dump(
    sites: Sequence[Site], backup: BackupEntry, dump_dir: Path, key: bytes | None, concurrency: int
) -> dict[str, str]:
    """Every file of the dump, verified, decrypted and decompressed into `dump_dir`, several at once."""
    skipped: dict[str, str] = {}

    def one(entry: FileEntry) -> None:
        if not entry.name.startswith(DUMP_DIR):
            raise BackupError(f"{entry.name} of {backup.backup_id} is not part of a pg_dump directory")
        plain = entry.name[len(DUMP_DIR) :]
        suffix = SUFFIX.get(entry.compression, "")
        if suffix and plain.endswith(suffix):
            plain = plain[: -len(suffix)]
        target = dump_dir / plain
        _, skips = from_any_site(
            sites,
            backup,
            entry,
            key,
            lambda chunks: _write_plain(chunks, entry.compression, target),
            lambda: target.unlink(missing_ok=True),
        )
        skipped.update({f"{site}: {entry.name}": why for site, why in skips.items()})

    with ThreadPoolExecutor(max(1, concurrency)) as pool:
        for future in [pool.submit(one, entry) for entry in backup.manifest.files]:
            future.result()
    return skipped


def _write_plain(chunks: Iterator[bytes], compression: str, target: Path) -> None:
    with target.open("wb") as out:
        if compression not in DECOMPRESS:
            for chunk in chunks:
                out.write(chunk)
            return
        proc = subprocess.Popen(
            DECOMPRESS[compression], stdin=subprocess.PIPE, stdout=out, stderr=subprocess.PIPE
        )
        assert proc.stdin is not None and proc.stderr is not None
        try:
            for chunk in chunks:
                proc.stdin.write(chunk)
        except BrokenPipeError as exc:
            raise CorruptObject(f"{compression} could not decompress {target.name}") from exc
        finally:
            if not proc.stdin.closed:
                proc.stdin.close()
            err = proc.stderr.read().decode(errors="replace")
            proc.stderr.close()
            code = proc.wait()
    if code != 0:
        raise CorruptObject(
            f"{compression} could not decompress {target.name} (exit {code}): {err.strip()[:200]}"
        )


def run_pg_restore(
    live_url: str,
    settings: BackupSettings,
    dump_dir: Path,
    database: str,
    tables: Sequence[str],
    schemas: Sequence[str],
    jobs: int,
) -> None:
    conn = conn_from_url(live_url)
    command = [
        str(pg_bin_dir(settings.pg_bin_dir) / "pg_restore"),
        *conn.args,
        "-d",
        database,
        "-j",
        str(jobs),
        "--exit-on-error",
        "--no-owner",
    ]
    command += [arg for t in tables for arg in ("-t", t)] + [arg for s in schemas for arg in ("-n", s)]
    done = subprocess.run(
        [*command, str(dump_dir)],
        capture_output=True,
        text=True,
        env=conn.env,
        check=False,
        timeout=24 * 3600,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed (exit {done.returncode}): {done.stderr.strip()[-400:]}")


def schemas_to_create(
    dump_dir: Path, settings: BackupSettings, tables: Sequence[str], schemas: Sequence[str]
) -> list[str]:
    """Schemas a selective restore needs but pg_restore -t / -n does not create (its SCHEMA entry is not selected)."""
    if not tables and not schemas:
        return []
    done = subprocess.run(
        [str(pg_bin_dir(settings.pg_bin_dir) / "pg_restore"), "-l", str(dump_dir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if done.returncode != 0:
        raise CorruptObject(
            f"pg_restore cannot read the dump's table of contents: {done.stderr.strip()[-300:]}"
        )
    listed: set[str] = set()
    for line in done.stdout.splitlines():
        parts = line.split(";", 1)[-1].split()
        if len(parts) >= 5 and parts[2] == "TABLE" and parts[3] != "-":
            schema, table = parts[3], parts[4]
            if (not tables or table in tables) and (not schemas or schema in schemas):
                listed.add(schema)
    missing = [s for s in schemas if s not in listed]
    if missing and not tables:
        raise BackupError(f"the dump has no tables in schema {', '.join(missing)}")
    absent = [t for t in tables if not any(f" TABLE {s} {t} " in done.stdout for s in listed)]
    if absent:
        raise BackupError(
            f"the dump has no table {', '.join(absent)}"
            + (f" in schema {', '.join(schemas)}" if schemas else "")
        )
    return sorted(s for s in listed if s != "public")


def row_counts(url: str, schemas: Sequence[str], tables: Sequence[str]) -> dict[str, int]:
    """Rows per restored table (schema-qualified unless in public)."""
    import psycopg

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        found = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema') "
            "ORDER BY schemaname, tablename"
        ).fetchall()
        counts: dict[str, int] = {}
        for schema, table in found:
            if (tables and table not in tables) or (schemas and schema not in schemas):
                continue
            row = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()
            counts[table if schema == "public" else f"{schema}.{table}"] = int(row[0]) if row else 0
    return counts


def _refuse_existing_database(url: str, database: str) -> None:
    import psycopg

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            raise BackupError(f"database {database} already exists: restore into a new database")


def _run(url: str, sql: str) -> None:
    import psycopg

    libpq = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.encode())
