"""Bring back one or more tables from a point in time beside the live database, in one step.

A scratch cluster is restored to the point, the tables are copied there into a new schema (columns,
constraints and indexes, no defaults or foreign keys, so nothing ties the copy to live objects),
and that schema is dumped into the live database. The live tables are never touched.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from backup.errors import BackupError
from backup.pgtools import conn_from_url
from backup.reach import LATEST, RecoveryTarget
from backup.restore import restore_postgres
from backup.scratch import scratch_cluster, scratch_dir
from backup.settings import BackupSettings
from backup.sites.base import Site
from opskit.pg import Cluster

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


@dataclass(frozen=True)
class TableRestoreResult:
    schema: str
    tables: dict[str, int]
    backup_id: str
    target: str
    seconds: float
    reason: str


def restore_tables(
    settings: BackupSettings,
    sites: Sequence[Site],
    tables: list[str],
    into_schema: str,
    target: RecoveryTarget = LATEST,
    scratch: Path | None = None,
) -> TableRestoreResult:
    """Copy `tables` as they were at `target` into the new schema `into_schema` of the live database."""
    for name in [*tables, into_schema]:
        if not NAME.match(name):
            raise BackupError(f"not a plain SQL name: {name!r}")
    live_url = settings.effective_database_url()
    _refuse_existing_schema(live_url, into_schema)
    began = time.monotonic()
    dbname = make_url(live_url).database or "postgres"
    with (
        scratch_dir("erpops-table-", scratch) as root,
        scratch_cluster(root / "scratch", settings.pg_bin_dir) as cluster,
    ):
        restored = restore_postgres(settings, sites, cluster.data_dir, target, owner=cluster.user)
        cluster.start()
        cluster.wait_ready()
        counts = _copy_into_schema(cluster.url(dbname), tables, into_schema)
        _dump_into_live(cluster, dbname, into_schema, live_url)
    return TableRestoreResult(
        into_schema,
        counts,
        restored.backup_id,
        target.describe(),
        time.monotonic() - began,
        f"restored {', '.join(f'{t} ({n} rows)' for t, n in counts.items())} as of {target.describe()} "
        f"into schema {into_schema} of the live database",
    )


def _refuse_existing_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    ) as conn:
        if conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (schema,)).fetchone():
            raise BackupError(f"schema {schema} already exists in the live database: choose a new one")


def _copy_into_schema(url: str, tables: list[str], schema: str) -> dict[str, int]:
    import psycopg

    counts = {}
    with psycopg.connect(url, autocommit=False) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        for table in tables:
            bare = table.split(".")[-1]
            conn.execute(
                f'CREATE TABLE "{schema}"."{bare}" (LIKE {table} INCLUDING CONSTRAINTS INCLUDING INDEXES)'
            )
            conn.execute(f'INSERT INTO "{schema}"."{bare}" SELECT * FROM {table}')
            row = conn.execute(f'SELECT count(*) FROM "{schema}"."{bare}"').fetchone()
            counts[table] = int(row[0]) if row else 0
        conn.commit()
    return counts


def _dump_into_live(cluster: Cluster, dbname: str, schema: str, live_url: str) -> None:
    live = conn_from_url(live_url)
    dump = subprocess.Popen(
        [
            *cluster.client("pg_dump"),
            "-d",
            dbname,
            "-n",
            schema,
            "--no-owner",
            "--no-privileges",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    load = subprocess.run(
        [
            str(cluster.bin_dir / "psql"),
            *live.args,
            "-d",
            live.dbname,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "-f",
            "-",
        ],
        stdin=dump.stdout,
        capture_output=True,
        text=True,
        env=live.env,
        check=False,
        timeout=3600,
    )
    assert dump.stdout is not None and dump.stderr is not None
    dump.stdout.close()
    dump_err = dump.stderr.read().decode(errors="replace")
    dump.stderr.close()
    if dump.wait() != 0 or load.returncode != 0:
        raise BackupError(
            f"copying schema {schema} into the live database failed: {(dump_err + load.stderr).strip()[-400:]}"
        )
