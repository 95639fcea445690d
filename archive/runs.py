"""Runs, checkpoints and the reconciliation that makes any interruption safe.

A batch's life: `pending` in the source's `archive_batch` (committed on its own), rows and manifest copied
into the destination tagged with the batch id (committed), read back and hashed, then in ONE source
transaction: rows deleted, carry-forward written, batch `archived`, checkpoint advanced. A process
killed anywhere leaves either a `pending` batch (its destination copy is deleted here, the source rows
never left) or an `archived` one (complete on both sides); a restore killed between its source commit and
its destination delete leaves `restore_pending` roots, whose archive copies are deleted here.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Update, insert, select, text, update

from archive.candidates import Limits
from archive.context import Archive
from archive.store import archive_batch, archive_checkpoint, archive_run, now
from erpcore.exceptions import Conflict

LOCK_KEY = 0x45525041  # "ERPA": with the schema's hash, the advisory lock every writing archive command takes


@contextmanager
def run_lock(ax: Archive) -> Iterator[None]:
    """One writer at a time: a PostgreSQL advisory lock, or a lock file next to the SQLite database."""
    if ax.source.dialect.name == "postgresql":
        with ax.source.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k, hashtext(current_schema()))"),
                               {"k": LOCK_KEY}).scalar()
            conn.commit()
            if not got:
                raise Conflict("another archive command is running on this database; wait for it to finish")
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k, hashtext(current_schema()))"), {"k": LOCK_KEY})
                conn.commit()
        return
    path = Path(str(ax.source.url.database or "archive")).with_suffix(".archive.lock")
    handle: IO[str] = open(path, "a")  # noqa: SIM115 - held for the whole block
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise Conflict("another archive command is running on this database; wait for it to finish") from None
        yield
    finally:
        handle.close()


@dataclass
class RunState:
    id: int
    resumed: bool
    limits: dict[str, Limits]
    closed_through: dt.date | None
    closed_source: str


def _limits_json(limits: Limits) -> dict[str, Any]:
    return {"until": limits.until.isoformat(), "closed_through": limits.closed_through.isoformat(),
            "closed_source": limits.closed_source, "residence_end": limits.residence_end.isoformat(),
            "residence_years": limits.residence_years}


def _limits(data: dict[str, Any]) -> Limits:
    return Limits(dt.date.fromisoformat(data["until"]), dt.date.fromisoformat(data["closed_through"]),
                  data["closed_source"], dt.date.fromisoformat(data["residence_end"]), float(data["residence_years"]))


def open_run(conn: Connection) -> Any:
    return conn.execute(select(archive_run).where(archive_run.c.state == "running")
                        .order_by(archive_run.c.id.desc()).limit(1)).first()


def start_or_resume(ax: Archive, limits: dict[str, Limits], closed: tuple[dt.date | None, str]) -> RunState:
    """Resume the unfinished run (with the dates it was planned with), else start one."""
    with ax.source.begin() as conn:
        row = open_run(conn)
        if row is not None:
            stored = {k: _limits(v) for k, v in (row.until or {}).items()}
            return RunState(row.id, True, stored, row.closed_through, row.closed_source)
        run_id = conn.execute(insert(archive_run).values(
            started_at=now(), state="running", until={k: _limits_json(v) for k, v in limits.items()},
            closed_through=closed[0], closed_source=closed[1])).inserted_primary_key[0]  # type: ignore[index]
        conn.execute(insert(archive_checkpoint), [
            {"run_id": run_id, "family": name, "last_key": 0, "batches": 0, "rows": 0, "done": False,
             "updated_at": now()} for name in limits])
    return RunState(int(run_id), False, limits, closed[0], closed[1])


def checkpoint(conn: Connection, run_id: int) -> dict[str, Any]:
    rows = conn.execute(select(archive_checkpoint).where(archive_checkpoint.c.run_id == run_id))
    return {r.family: r for r in rows}


def advance(conn: Connection, run_id: int, family: str, last_key: Any, rows: int, done: bool) -> None:
    """Move the checkpoint; called inside the batch's source transaction, so it commits with the delete."""
    conn.execute(advancing(run_id, family, last_key, rows, done))


def advancing(run_id: int, family: str, last_key: Any, rows: int, done: bool) -> Update:
    """The statement that moves the checkpoint (to run alone, or as a CTE of the batch's last statement)."""
    cp = archive_checkpoint
    return update(cp).where(cp.c.run_id == run_id, cp.c.family == family).values(
        last_key=last_key, rows=cp.c.rows + rows, batches=cp.c.batches + (1 if rows else 0), done=done,
        updated_at=now())


def finish_run(ax: Archive, run_id: int, state: str, reason: str) -> None:
    with ax.source.begin() as conn:
        conn.execute(update(archive_run).where(archive_run.c.id == run_id).values(
            state=state, reason=reason, finished_at=now() if state == "done" else None))


def reserve_batch(ax: Archive, run_id: int, family: str) -> int:
    """A batch id, committed as `pending` before anything is copied (so a crash can be cleaned up)."""
    with ax.source.begin() as conn:
        return open_batch(conn, run_id, family)


def open_batch(conn: Connection, run_id: int, family: str) -> int:
    """A `pending` batch row in the caller's transaction; its id tags the batch's rows in the archive."""
    return int(conn.execute(insert(archive_batch).values(
        run_id=run_id, family=family, state="pending", roots=0, rows=0, created_at=now(),
        reason=f"pid {os.getpid()}")).inserted_primary_key[0])  # type: ignore[index]


