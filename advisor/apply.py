"""Apply recommendations with CREATE INDEX CONCURRENTLY, and undo them; every step recorded.

The statements are rebuilt from the plan's table, keys and covered columns (quoted identifiers), never run as
text from the file. Each index is created under `lock_timeout`, checked valid in pg_index (an invalid one is
dropped at once and reported), and recorded in `advisor_applied`, a table the advisor creates for itself, so
`undo` drops exactly what an apply created.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.candidates import Candidate
from advisor.errors import AdvisorUsageError

LEDGER = """
CREATE TABLE IF NOT EXISTS advisor_applied (
    id bigserial PRIMARY KEY,
    batch bigint NOT NULL,
    index_name text NOT NULL,
    table_name text NOT NULL,
    statement text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    undone_at timestamptz
)
"""
IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]{0,62}$")
TABLE = re.compile(r"^([A-Za-z_][A-Za-z0-9_$]*\.)?[A-Za-z_][A-Za-z0-9_$]*$")
DURATION = re.compile(r"^\d+(ms|s|min)?$")


@dataclass
class Change:
    index: str
    table: str
    action: str  # created | exists | invalid | failed | dropped | missing
    statement: str
    reason: str
    seconds: float = 0.0
    size_bytes: int = 0


@dataclass
class ChangeResult:
    changes: list[Change] = field(default_factory=list)
    batch: int | None = None

    @property
    def exit_code(self) -> int:
        return 1 if any(c.action in ("invalid", "failed") for c in self.changes) else 0

    @property
    def reason(self) -> str:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.action] = counts.get(change.action, 0) + 1
        return ", ".join(f"{n} {a}" for a, n in sorted(counts.items())) or "nothing to do"

    def to_json(self) -> dict[str, Any]:
        return {"batch": self.batch, "exit_code": self.exit_code, "reason": self.reason, "changes": self.changes}


def read_plan(path: Path, only: list[str]) -> list[tuple[str, Candidate]]:
    """(name, index) of each recommendation of an `analyze --json` file, checked; `only` filters by name."""
    try:
        data = json.loads(path.read_text())
        recs = data["recommendations"]
        plan = [(str(r["name"]), Candidate(str(r["table"]), tuple((str(c), bool(d)) for c, d in r["keys"]),
                                           tuple(str(c) for c in r.get("include", [])))) for r in recs]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        raise AdvisorUsageError(f"cannot read the plan {path} ({exc.__class__.__name__}: {exc}): give the JSON "
                                "that `erpops advisor analyze --json` printed") from exc
    for name, candidate in plan:
        bad = [x for x in (name, *candidate.columns, *candidate.include) if not IDENT.match(x)]
        if bad or not TABLE.match(candidate.table):
            raise AdvisorUsageError(f"the plan {path} names {bad[0] if bad else candidate.table!r}, which is not "
                                    "a plain SQL identifier: regenerate it with `erpops advisor analyze --json`")
    unknown = set(only) - {n for n, _ in plan}
    if unknown:
        raise AdvisorUsageError(f"--only {min(unknown)} is not in the plan {path}; it has: "
                                f"{', '.join(n for n, _ in plan) or 'no recommendations'}")
    return [(n, c) for n, c in plan if not only or n in only]


def check_timeout(value: str) -> str:
    if not DURATION.match(value):
        raise AdvisorUsageError(f"lock_timeout {value!r} is not a duration like 5s, 500ms or 1min")
    return value


def apply_plan(conn: Any, plan: list[tuple[str, Candidate]], lock_timeout: str) -> ChangeResult:
    """Create each index concurrently; keep the valid ones and record them under one batch number."""
    conn.execute(LEDGER)
    conn.execute(f"SET lock_timeout = '{check_timeout(lock_timeout)}'")
    batch = int(conn.execute("SELECT coalesce(max(batch), 0) + 1 FROM advisor_applied").fetchone()[0])
    result = ChangeResult(batch=batch)
    for name, candidate in plan:
        result.changes.append(_create(conn, name, candidate, batch))
    return result


def _create(conn: Any, name: str, candidate: Candidate, batch: int) -> Change:
    import psycopg

    statement = candidate.ddl(concurrently=True, name=name)
    if _exists(conn, name):
        return Change(name, candidate.table, "exists", statement, "an index of this name exists; left alone")
    started = time.perf_counter()
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        why = str(exc).strip().splitlines()[0] + _leftover(conn, name)
        return Change(name, candidate.table, "failed", statement, why, time.perf_counter() - started)
    except BaseException:  # SIGINT/SIGTERM mid-build: no invalid index is left behind
        conn.cancel()
        with psycopg.connect(conn.info.dsn, autocommit=True, connect_timeout=10) as fresh:
            _leftover(fresh, name)
        raise
    seconds = time.perf_counter() - started
    valid, size = _state(conn, name)
    if not valid:
        return Change(name, candidate.table, "invalid", statement, "built but invalid in pg_index" +
                      _leftover(conn, name), seconds)
    conn.execute("INSERT INTO advisor_applied (batch, index_name, table_name, statement) VALUES (%s, %s, %s, %s)",
                 (batch, name, candidate.table, statement))
    return Change(name, candidate.table, "created", statement, "valid; recorded for undo", seconds, size)


def undo(conn: Any, names: list[str], lock_timeout: str) -> ChangeResult:
    """Drop what an apply created: the named indexes, or the last batch not yet undone."""
    conn.execute(LEDGER)
    conn.execute(f"SET lock_timeout = '{check_timeout(lock_timeout)}'")
    if names:
        rows = conn.execute("SELECT id, index_name, table_name, batch FROM advisor_applied WHERE undone_at IS NULL "
                            "AND index_name = ANY(%s) ORDER BY id DESC", (names,)).fetchall()
        unknown = set(names) - {r[1] for r in rows}
        if unknown:
            raise AdvisorUsageError(f"{min(unknown)} was not created by `erpops advisor apply` (or is "
                                    "undone already): the advisor drops only what it created")
    else:
        rows = conn.execute("SELECT id, index_name, table_name, batch FROM advisor_applied WHERE undone_at IS NULL "
                            "AND batch = (SELECT max(batch) FROM advisor_applied WHERE undone_at IS NULL) "
                            "ORDER BY id DESC").fetchall()
    result = ChangeResult(batch=rows[0][3] if rows else None)
    for row_id, name, table, _batch in rows:
        result.changes.append(_drop(conn, row_id, name, table))
    return result


def _drop(conn: Any, row_id: int, name: str, table: str) -> Change:
    import psycopg

    statement = f"DROP INDEX CONCURRENTLY IF EXISTS {_qualified(table, name)}"
    present = _exists(conn, name)
    started = time.perf_counter()
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        return Change(name, table, "failed", statement, str(exc).strip().splitlines()[0])
    conn.execute("UPDATE advisor_applied SET undone_at = now() WHERE id = %s", (row_id,))
    action, why = ("dropped", "undone") if present else ("missing", "was gone already; marked undone")
    return Change(name, table, action, statement, why, time.perf_counter() - started)


def _qualified(table: str, name: str) -> str:
    return f"{table.rsplit('.', 1)[0]}.{name}" if "." in table else name


def _exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_class WHERE relname = %s AND relkind = 'i' "
                        "AND pg_table_is_visible(oid)", (name,)).fetchone() is not None


def _state(conn: Any, name: str) -> tuple[bool, int]:
    row = conn.execute("SELECT x.indisvalid AND x.indisready, pg_relation_size(x.indexrelid) FROM pg_index x "
                       "JOIN pg_class c ON c.oid = x.indexrelid WHERE c.relname = %s AND pg_table_is_visible(c.oid)",
                       (name,)).fetchone()
    return (bool(row[0]), int(row[1])) if row else (False, 0)


def _leftover(conn: Any, name: str) -> str:
    """Drop the invalid index a failed build left; what happened, as the end of a reason."""
    import psycopg

    if not _exists(conn, name):
        return ""
    statement = f"DROP INDEX CONCURRENTLY IF EXISTS {name}"
    try:
        conn.execute(statement)
    except psycopg.Error as exc:
        return (f"; its invalid leftover could not be dropped ({str(exc).strip().splitlines()[0]}): run "
                f"`{statement}` when the table is quiet")
    return "; its invalid leftover was dropped"
