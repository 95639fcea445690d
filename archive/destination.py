"""The destination side of a batch: copy and read back, hash, and delete what went back or never committed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from archive.closure import Closure, ClosureRows, chunks, collect, pk_column
from archive.context import Archive
from archive.errors import VerificationFailed
from archive.rowhash import Digest, combine, digest
from archive.store import BATCH_COLUMN, archive_batch


def copy_to_destination(ax: Archive, batch_id: int, moving: ClosureRows, digests: Mapping[str, Digest],
                        manifest: Mapping[str, Any]) -> None:
    """Insert the rows and the manifest into the destination, commit, then read back and compare."""
    with ax.dest.begin() as conn:
        for name, rows in moving.rows.items():
            if rows:
                conn.execute(insert(ax.dest_tables[name]), [{**r, BATCH_COLUMN: batch_id} for r in rows])
        conn.execute(insert(ax.manifest), dict(manifest))
    with ax.dest.connect() as conn:
        for name, expected in digests.items():
            got = destination_digest(conn, ax, name, batch_id)
            if got != expected:
                raise VerificationFailed(f"batch {batch_id}: {name} read back from the destination as {got.rows} "
                                         f"rows hash {got.hex[:12]}, expected {expected.rows} rows hash "
                                         f"{expected.hex[:12]}; nothing was deleted")


def destination_digest(conn: Connection, ax: Archive, name: str, batch_id: int, kind: str = "") -> Digest:
    """Count and hash of the archive's rows of `name` in a batch, as `kind` of digest (see `archive.rowhash`)."""
    table = ax.dest_tables[name]
    if kind:
        from archive.sqlhash import aggregate_sql, quote_ident, to_digest

        source = f"{quote_ident(name)} r WHERE r.{quote_ident(BATCH_COLUMN)} = %(batch)s"
        return to_digest(conn.exec_driver_sql(aggregate_sql(ax.tables[name], source, kind=kind),
                                              {"batch": batch_id}).one(), kind)
    rows = (dict(r._mapping) for r in conn.execute(select(table).where(table.c[BATCH_COLUMN] == batch_id)))
    return digest(ax.tables[name], rows)


def strip(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != BATCH_COLUMN} for r in rows]


def closure_rows(conn: Connection, ax: Archive, closure: Closure, batch_id: int, roots: list[Any]) -> ClosureRows:
    table = ax.dest_tables[closure.root]
    key = table.c[pk_column(table)]
    found: list[dict[str, Any]] = []
    for part in chunks(roots):
        found += [dict(r._mapping) for r in conn.execute(
            select(table).where(key.in_(part), table.c[BATCH_COLUMN] == batch_id).order_by(key))]
    return collect(conn, closure, ax.dest_tables, found)


def drop_restored(ax: Archive, closure: Closure, batch_id: int, roots: list[Any]) -> None:
    """Delete the restored closures from the destination and refresh the batch's counts and hashes."""
    with ax.dest.begin() as dconn:
        found = closure_rows(dconn, ax, closure, batch_id, roots)
        for name in reversed(closure.tables):
            table = ax.dest_tables[name]
            key = table.c[pk_column(table)]
            for part in chunks(found.ids(name)):
                dconn.execute(delete(table).where(key.in_(part), table.c[BATCH_COLUMN] == batch_id))
    with ax.dest.connect() as dconn:
        digests = {name: destination_digest(dconn, ax, name, batch_id) for name in closure.tables}
    kept = {t: d for t, d in digests.items() if d.rows}
    total = combine(kept.values())
    values = {"counts": {t: d.rows for t, d in kept.items()}, "hashes": {t: d.hex for t, d in kept.items()},
              "rows": total.rows, "hash": total.hex, "state": "archived" if total.rows else "restored"}
    with ax.dest.begin() as dconn:
        dconn.execute(update(ax.manifest).where(ax.manifest.c.id == batch_id).values(**values))
    with ax.source.begin() as conn:
        conn.execute(update(archive_batch).where(archive_batch.c.id == batch_id).values(**values,
                                                                                          restore_pending=None))


def drop_destination_batch(ax: Archive, batch_id: int) -> int:
    """Delete every destination row and the manifest of a batch that never committed in the source."""
    removed = 0
    with ax.dest.begin() as conn:
        for table in ax.dest_tables.values():
            removed += conn.execute(delete(table).where(table.c[BATCH_COLUMN] == batch_id)).rowcount or 0
        conn.execute(delete(ax.manifest).where(ax.manifest.c.id == batch_id))
    if ax.parquet is not None:
        ax.parquet.drop_batch(batch_id)
    return removed
