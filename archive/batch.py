"""One batch: lock a keyset window, copy its movable closures, verify, then delete in one transaction."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, update

from archive import anchors, ledger
from archive.candidates import Limits, Skip, scan
from archive.closure import Closure, ClosureRows, among
from archive.context import Archive
from archive.destination import copy_to_destination
from archive.errors import VerificationFailed
from archive.purge import purge_session
from archive.rowhash import Digest, combine, digest
from archive.runs import advance, reserve_batch
from archive.store import archive_batch, now

__all__ = ["BatchOutcome", "VerificationFailed", "manifest_of", "move_batch"]


@dataclass
class BatchOutcome:
    """What one batch did, and why."""

    family: str
    batch_id: int | None
    done: bool  # the family has no candidates left in this run
    documents: int = 0
    rows: int = 0
    scanned: int = 0
    skipped: list[Skip] = field(default_factory=list)
    reason: str = ""
    after: Any = None  # the key the family's checkpoint moved to
    took_ms: dict[str, float] = field(default_factory=dict)  # one-call batches: milliseconds per step, and the call


def move_batch(ax: Archive, run_id: int, closure: Closure, limits: Limits, after: Any, size: int | None = None
               ) -> BatchOutcome:
    """Archive the next window (`size` documents, else the batch size) after key `after`; the source
    transaction commits only verified moves."""
    family = closure.family.name
    batch_id = reserve_batch(ax, run_id, family)
    with ax.source.connect() as conn, conn.begin():
        purge_session(conn, ax.settings.lock_timeout_ms)
        window = scan(conn, closure, ax.tables, limits, after, size or ax.settings.batch_size, lock=True)
        if window.last_key is None or not window.movable:
            conn.execute(delete(archive_batch).where(archive_batch.c.id == batch_id))
            done = window.last_key is None
            advance(conn, run_id, family, after if done else window.last_key, 0, done)
            why = "no candidates left" if done else f"all {window.scanned} candidates in the window stay"
            return BatchOutcome(family, None, done, scanned=window.scanned, skipped=window.skipped, reason=why,
                                after=after if done else window.last_key)
        digests = {t: digest(ax.tables[t], rows) for t, rows in window.moving.rows.items() if rows}
        manifest = manifest_of(batch_id, run_id, family, window.movable, digests)
        copy_to_destination(ax, batch_id, window.moving, digests, manifest)
        if ax.parquet is not None:
            manifest["parquet"] = ax.parquet.write_batch(batch_id, family, ax.tables, window.moving.rows, digests)
        delete_rows(conn, ax, closure, window.moving)
        carried = ledger.replace(conn, ax.tables, closure.family, batch_id, window.moving.rows)
        if closure.family.hash_chained:
            carried = anchors.advance(conn, window.moving.rows[closure.root])
        conn.execute(update(archive_batch).where(archive_batch.c.id == batch_id).values(
            **{k: v for k, v in manifest.items() if k not in ("id", "created_at", "state", "archived_at", "reason")},
            state="archived",
            archived_at=now(), reason=carried or None))
        advance(conn, run_id, family, window.last_key, manifest["rows"], False)
    with ax.dest.begin() as dconn:
        dconn.execute(update(ax.manifest).where(ax.manifest.c.id == batch_id).values(
            state="archived", archived_at=now(), parquet=manifest["parquet"]))
    return BatchOutcome(family, batch_id, False, len(window.movable), manifest["rows"], window.scanned,
                        window.skipped, f"batch {batch_id}: {len(window.movable)} documents, {manifest['rows']} rows "
                                        f"moved and verified (hash {manifest['hash'][:12]})",
                        after=window.last_key)


def manifest_of(batch_id: int, run_id: int, family: str, roots: list[Any], digests: Mapping[str, Digest]
                ) -> dict[str, Any]:
    """A batch's manifest: key range, rows and hash per table and in all (state `copied` until it commits)."""
    total = combine(digests.values())
    return {"id": batch_id, "run_id": run_id, "family": family, "state": "copied", "first_key": min(roots),
            "last_key": max(roots), "roots": len(roots), "rows": total.rows,
            "counts": {t: d.rows for t, d in digests.items()}, "hashes": {t: d.hex for t, d in digests.items()},
            "hash": total.hex, "parquet": None, "created_at": now(), "archived_at": None, "reason": None,
            "restore_pending": None}


def delete_rows(conn: Connection, ax: Archive, closure: Closure, moving: ClosureRows) -> None:
    """Delete children before parents; a row that vanished under us fails the batch (and rolls it back)."""
    for name in reversed(closure.tables):
        table = ax.tables[name]
        key = table.c[moving.pks[name]]
        ids = moving.ids(name)
        deleted = 0
        for condition in among(conn, key, ids):
            deleted += conn.execute(delete(table).where(condition)).rowcount or 0
        if deleted != len(ids):
            raise VerificationFailed(f"{name}: deleted {deleted} rows, expected {len(ids)}; the batch is rolled back")
