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

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, MetaData, Table, insert, update

from archive import ledger
from archive.batch import BatchOutcome, manifest_of
from archive.candidates import Limits
from archive.closure import Closure, pk_column
from archive.context import Archive
from archive.errors import VerificationFailed
from archive.purge import purge_session
from archive.rowhash import RECORD, Digest
from archive.runs import advance, advancing, open_batch
from archive.sqlhash import aggregate_sql, quote_ident, to_digest
from archive.sqlwindow import ServerWindow, judge_in_server, walk
from archive.store import BATCH_COLUMN, archive_batch, now

# The walks join a few hundred keys to big tables through CTEs, whose sizes the planner cannot see: without
# hash and merge joins it follows the foreign keys' indexes instead of scanning whole tables per batch. (The
# cost a disabled join adds to a plan would also trip JIT compilation, seconds for a millisecond query.) Nor
# may it scan a small table once per window row rather than probe its index: 930 scans of a 156-row table,
# 8 ms of a 30 ms judge.
FOLLOW_INDEXES = {"enable_hashjoin": "off", "enable_mergejoin": "off", "enable_seqscan": "off", "jit": "off"}


def move_batch_in_server(ax: Archive, run_id: int, closure: Closure, limits: Limits, after: Any,
                         size: int | None = None, conn: Connection | None = None, guard_ms: int | None = None
                         ) -> BatchOutcome:
    """Archive the next window after key `after` in one verified source transaction (on `conn` when given:
    a run keeps one connection for its batches rather than checking one out, and pinging it, per batch;
    `guard_ms`, when given, cancels any of its statements that runs longer)."""
    if conn is None:
        with ax.source.connect() as own:
            return move_batch_in_server(ax, run_id, closure, limits, after, size, own, guard_ms)
    family, schema = closure.family.name, str(ax.server_schema)
    guard = {"statement_timeout": f"{guard_ms}ms"} if guard_ms else {}
    with conn.begin():
        purge_session(conn, ax.settings.lock_timeout_ms, **FOLLOW_INDEXES, **guard)
        window = judge_in_server(conn, closure, ax.tables, limits, after, size or ax.settings.batch_size)
        if window.last_key is None or not window.movable:
            done = window.last_key is None
            advance(conn, run_id, family, after if done else window.last_key, 0, done)
            why = "no candidates left" if done else f"all {window.scanned} candidates in the window stay"
            return BatchOutcome(family, None, done, scanned=window.scanned, skipped=window.skipped, reason=why,
                                after=after if done else window.last_key)
        batch_id = open_batch(conn, run_id, family)
        tables = [ax.tables[name] for name in reversed(closure.tables) if window.counts.get(name)]
        summed = ledger.summed_in_server(conn, closure.family, window.movable)
        kind = RECORD if ax.settings.server_hash == "record" else ""
        moved = _move(conn, closure, ax.tables, tables, schema, window, batch_id, kind)
        archived = _archived(conn, tables, schema, batch_id, kind)
        for name, digest in moved.items():
            _compare(batch_id, name, digest, archived[name])
        manifest = manifest_of(batch_id, run_id, family, window.movable, moved)
        carried = ledger.replace(conn, ax.tables, closure.family, batch_id, summed)
        manifest.update(state="archived", archived_at=now(), reason=carried or None)
        finished = update(archive_batch).where(archive_batch.c.id == batch_id).values(
            **{k: v for k, v in manifest.items() if k not in ("id", "created_at")})
        conn.execute(insert(_in_schema(ax.manifest, schema)).values(manifest).add_cte(finished.cte("batch_done"))
                     .add_cte(advancing(run_id, family, window.last_key, manifest["rows"], False).cte("moved_on")))
    return BatchOutcome(family, batch_id, False, len(window.movable), manifest["rows"], window.scanned,
                        window.skipped, f"batch {batch_id}: {len(window.movable)} documents, {manifest['rows']} rows "
                                        f"moved in the server and verified (hash {manifest['hash'][:12]})",
                        after=window.last_key)


def _move(conn: Connection, closure: Closure, all_tables: Mapping[str, Table], tables: list[Table], schema: str,
          window: ServerWindow, batch_id: int, kind: str) -> dict[str, Digest]:
    """One statement: delete the movable closures' rows of `tables`, insert them into the archive, and return
    the hash of what was deleted per table. Its CTEs all read the rows as they were before it, and foreign
    keys are checked at its end, when children and parents are gone alike."""
    ctes = walk(closure, all_tables, facts=False)
    sums = []
    for i, table in enumerate(tables):
        names = ", ".join(quote_ident(c.name) for c in table.columns)
        walked = f"x{closure.tables.index(table.name)}"
        ctes.append(f"m{i} AS (DELETE FROM {quote_ident(table.name)} WHERE {quote_ident(pk_column(table))} IN "
                    f"(SELECT id FROM {walked}) RETURNING *), c{i} AS (INSERT INTO {_qualified(schema, table)} "
                    f"({names}, {quote_ident(BATCH_COLUMN)}) SELECT {names}, %(batch)s FROM m{i})")
        sums.append(f"SELECT {i}, * FROM ({aggregate_sql(table, f'm{i} r', kind=kind)}) s{i}")
    sql = "WITH " + ", ".join(ctes) + " " + " UNION ALL ".join(sums)
    rows = conn.exec_driver_sql(sql, {"roots": window.movable, "batch": batch_id}).all()
    moved = {tables[row[0]].name: to_digest(row[1:], kind) for row in rows}
    for name, digest in moved.items():
        if digest.rows != window.counts[name]:
            raise VerificationFailed(f"batch {batch_id}: {name}: deleted {digest.rows} rows, judged "
                                     f"{window.counts[name]}; the batch is rolled back")
    return moved


def _archived(conn: Connection, tables: list[Table], schema: str, batch_id: int, kind: str) -> dict[str, Digest]:
    """The hash of every table's rows the archive holds under `batch_id`, in one statement."""
    batch = quote_ident(BATCH_COLUMN)
    sums = [f"SELECT {i}, * FROM ({aggregate_sql(t, f'{_qualified(schema, t)} r WHERE r.{batch} = %(batch)s', kind=kind)}) s{i}"
            for i, t in enumerate(tables)]
    rows = conn.exec_driver_sql(" UNION ALL ".join(sums), {"batch": batch_id}).all()
    return {tables[row[0]].name: to_digest(row[1:], kind) for row in rows}


def _compare(batch_id: int, name: str, moved: Digest, archived: Digest) -> None:
    if moved != archived:
        raise VerificationFailed(f"batch {batch_id}: {name} reads back from the archive as {archived.rows} rows hash "
                                 f"{archived.hex[:12]}, deleted {moved.rows} rows hash {moved.hex[:12]}; "
                                 "the batch is rolled back")


def _qualified(schema: str, table: Table) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table.name)}"


def _in_schema(table: Table, schema: str) -> Table:
    return table.to_metadata(MetaData(), schema=schema)
