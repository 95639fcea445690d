"""The ERP integrity summary at a point recovery can stop at exactly: a named restore point.

Under concurrent writes a summary read "after the backup" matches no recoverable state: commits land
between the read and any WAL position one could record. So the summary transaction first takes
SHARE locks on the ERP's tables (writers wait until it commits, readers go on; in-flight writers are
waited for, so everything they wrote is visible), then takes its REPEATABLE READ snapshot and writes
`pg_create_restore_point` while nothing can change those tables. Recovering to that restore point
therefore reproduces exactly the data the summary was read from. The WAL segment holding the point is
then switched out, so archiving or streaming ships it at once.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

LOCK_TIMEOUT = "5s"
ATTEMPTS = 3


@dataclass(frozen=True)
class PointSummary:
    summary: dict[str, str]
    point: str
    lsn: str


def summary_at_restore_point(engine: Engine, point: str) -> PointSummary | None:
    """The summary and the restore point it corresponds to, or None when that cannot be had here."""
    tables = _tables(engine)
    if not tables:
        return None
    for _ in range(ATTEMPTS):
        try:
            with engine.connect() as conn:
                result = _locked(conn.execution_options(isolation_level="REPEATABLE READ"), tables, point)
        except DBAPIError as exc:
            code = getattr(exc.orig, "sqlstate", None)
            if code in (
                "55P03",
                "40P01",
            ):  # lock_not_available, deadlock_detected: writers were busy, try again
                continue
            return (
                None  # e.g. no privilege for pg_create_restore_point: the caller takes the unlocked summary
            )
        _switch_wal(engine)
        return result
    return None


def _tables(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables "
                    "WHERE schemaname = ANY (current_schemas(false)) ORDER BY 1"
                )
            )
            .scalars()
            .all()
        )
    return [str(r) for r in rows]


def _locked(conn: Connection, tables: list[str], point: str) -> PointSummary:
    from backup.integrity import integrity_summary

    with conn.begin():
        conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
        conn.execute(text(f"LOCK TABLE {', '.join(tables)} IN SHARE MODE"))  # before the snapshot
        lsn = str(conn.execute(text("SELECT pg_create_restore_point(:p)"), {"p": point}).scalar_one())
        try:
            with conn.begin_nested():
                summary = integrity_summary(conn)
        except SQLAlchemyError as exc:
            summary = {"unavailable": str(getattr(exc, "orig", exc)).splitlines()[0]}
    return PointSummary(summary, point, lsn)


def _switch_wal(engine: Engine) -> None:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_switch_wal()"))
            conn.commit()
    except SQLAlchemyError:
        pass  # best effort: the segment ships with the next switch anyway
