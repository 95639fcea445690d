"""Reconciliation: what makes any interruption safe (see `archive.runs` for a batch's life)."""

from __future__ import annotations

from sqlalchemy import select, update

from archive.context import Archive
from archive.destination import drop_destination_batch, drop_restored
from archive.store import archive_batch


def reconcile(ax: Archive) -> list[str]:
    """Finish or undo what an interrupted command left; returns one sentence per repair."""
    notes = []
    with ax.source.connect() as conn:
        pending = list(conn.execute(select(archive_batch.c.id).where(archive_batch.c.state == "pending")).scalars())
        archived = list(conn.execute(select(archive_batch.c.id).where(archive_batch.c.state == "archived"))
                        .scalars())
    for batch_id in pending:
        removed = drop_destination_batch(ax, batch_id)
        with ax.source.begin() as conn:
            conn.execute(update(archive_batch).where(archive_batch.c.id == batch_id).values(
                state="abandoned", reason="interrupted before its delete committed; the destination copy was "
                                          f"removed ({removed} rows)"))
        notes.append(f"batch {batch_id} was interrupted before its delete: removed its {removed} copied rows")
    with ax.dest.begin() as conn:
        fixed = conn.execute(update(ax.manifest).where(ax.manifest.c.state == "copied",
                                                       ax.manifest.c.id.in_(archived or [-1]))
                             .values(state="archived")).rowcount or 0
    if fixed:
        notes.append(f"{fixed} manifest(s) in the destination marked archived (their delete had committed)")
    notes.extend(finish_pending_restores(ax))
    return notes


def finish_pending_restores(ax: Archive) -> list[str]:
    """Delete archive copies of documents whose restore committed in the source before an interruption."""
    with ax.source.connect() as conn:
        pending = conn.execute(select(archive_batch.c.id, archive_batch.c.restore_pending)
                               .where(archive_batch.c.restore_pending.is_not(None))).all()
    notes = []
    for batch_id, info in pending:
        if not info or info.get("family") not in ax.closures:
            continue
        drop_restored(ax, ax.closures[info["family"]], batch_id, list(info["roots"]))
        notes.append(f"batch {batch_id}: finished an interrupted restore of {len(info['roots'])} document(s)")
    return notes
