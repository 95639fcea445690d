"""Batches that move inside PostgreSQL, for a destination in another schema of the source's database.

One source transaction per batch does what the Python path (`archive.batch`) spreads over two databases:
lock and judge the window (reading only the columns it is judged by), then per table, children first,
one `WITH moved AS (DELETE ... RETURNING *) INSERT INTO <archive schema>.<table> SELECT ...` that returns
the SQL hash (`archive.sqlhash`: the number `archive.rowhash` computes) of the rows it deleted; then the
same hash of the rows the archive now holds under the batch's id. Any difference raises and rolls the
whole batch back. The carry-forward, both manifests and the checkpoint commit with the move, so an
interruption leaves nothing half done for `archive.reconcile`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, MetaData, Table, insert, update

from archive import ledger
from archive.batch import BatchOutcome, manifest_of
from archive.candidates import Limits, judged_columns, scan
from archive.closure import Closure, pk_column
from archive.context import Archive
from archive.errors import VerificationFailed
from archive.purge import purge_session
from archive.rowhash import Digest
from archive.runs import advance, open_batch
from archive.sqlhash import aggregate_sql, quote_ident, to_digest
from archive.store import BATCH_COLUMN, archive_batch, now


def move_batch_in_server(ax: Archive, run_id: int, closure: Closure, limits: Limits, after: Any,
                         size: int | None = None) -> BatchOutcome:
    """Archive the next window after key `after` in one verified source transaction."""
    family, schema = closure.family.name, str(ax.server_schema)
    columns = judged_columns(closure, ax.tables, ledger.COLUMNS.get(closure.family.carry_forward or "", {}))
    with ax.source.connect() as conn, conn.begin():
        purge_session(conn, ax.settings.lock_timeout_ms)
        window = scan(conn, closure, ax.tables, limits, after, size or ax.settings.batch_size, lock=True,
                      columns=columns)
        if window.last_key is None or not window.movable:
            done = window.last_key is None
            advance(conn, run_id, family, after if done else window.last_key, 0, done)
            why = "no candidates left" if done else f"all {window.scanned} candidates in the window stay"
            return BatchOutcome(family, None, done, scanned=window.scanned, skipped=window.skipped, reason=why)
        batch_id = open_batch(conn, run_id, family)
        moved = {name: _move(conn, ax.tables[name], schema, window.moving.ids(name), batch_id)
                 for name in reversed(closure.tables) if window.moving.ids(name)}
        for name, digest in moved.items():
            _compare(batch_id, name, digest, _archived(conn, ax.tables[name], schema, batch_id))
        manifest = manifest_of(batch_id, run_id, family, window.movable, moved)
        carried = ledger.replace(conn, ax.tables, closure.family, batch_id, window.moving.rows)
        manifest.update(state="archived", archived_at=now(), reason=carried or None)
        conn.execute(update(archive_batch).where(archive_batch.c.id == batch_id).values(
            **{k: v for k, v in manifest.items() if k not in ("id", "created_at")}))
        conn.execute(insert(_in_schema(ax.manifest, schema)), manifest)
        advance(conn, run_id, family, window.last_key, manifest["rows"], False)
    return BatchOutcome(family, batch_id, False, len(window.movable), manifest["rows"], window.scanned,
                        window.skipped, f"batch {batch_id}: {len(window.movable)} documents, {manifest['rows']} rows "
                                        f"moved in the server and verified (hash {manifest['hash'][:12]})")


def _move(conn: Connection, table: Table, schema: str, ids: list[Any], batch_id: int) -> Digest:
    """Delete the rows of `ids`, insert them into the archive, and return the hash of what was deleted."""
    names = ", ".join(quote_ident(c.name) for c in table.columns)
    sql = (f"WITH moved AS (DELETE FROM {quote_ident(table.name)} WHERE {quote_ident(pk_column(table))} "
           f"= ANY(%(ids)s) RETURNING *), copied AS (INSERT INTO {_qualified(schema, table)} ({names}, "
           f"{quote_ident(BATCH_COLUMN)}) SELECT {names}, %(batch)s FROM moved) " + aggregate_sql(table, "moved r"))
    digest = to_digest(conn.exec_driver_sql(sql, {"ids": ids, "batch": batch_id}).one())
    if digest.rows != len(ids):
        raise VerificationFailed(f"batch {batch_id}: {table.name}: deleted {digest.rows} rows, expected {len(ids)}; "
                                 "the batch is rolled back")
    return digest


def _archived(conn: Connection, table: Table, schema: str, batch_id: int) -> Digest:
    source = f"{_qualified(schema, table)} r WHERE r.{quote_ident(BATCH_COLUMN)} = %(batch)s"
    return to_digest(conn.exec_driver_sql(aggregate_sql(table, source), {"batch": batch_id}).one())


def _compare(batch_id: int, name: str, moved: Digest, archived: Digest) -> None:
    if moved != archived:
        raise VerificationFailed(f"batch {batch_id}: {name} reads back from the archive as {archived.rows} rows hash "
                                 f"{archived.hex[:12]}, deleted {moved.rows} rows hash {moved.hex[:12]}; "
                                 "the batch is rolled back")


def _qualified(schema: str, table: Table) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table.name)}"


def _in_schema(table: Table, schema: str) -> Table:
    return table.to_metadata(MetaData(), schema=schema)
