"""The workload: statements with how often they ran, from a SQL file, pg_stat_statements or a PostgreSQL log.

Statements are grouped by their parse-tree fingerprint (constants, parameter numbers, casts of parameters and
layout do not count): psycopg sends an integer as int2, int4 or int8 by its size, which splits one query into
several pg_stat_statements entries; grouped, they weigh as the one query they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorUnavailable, AdvisorUsageError

CALLS = re.compile(r"^\s*--\s*calls\s*[:=]\s*(\d+)", re.IGNORECASE | re.MULTILINE)
SKIP = re.compile(r"\b(pg_catalog|pg_stat_\w+|pg_class|pg_index|pg_namespace|pg_attribute|information_schema|"
                  r"hypopg\w*|advisor_applied|pg_\w+\(|set_config)\b", re.IGNORECASE)
KINDS = ("select", "insert", "update", "delete", "with")


@dataclass
class Statement:
    """One distinct statement of the workload and its weight."""

    text: str
    calls: int = 1
    total_ms: float = 0.0
    fingerprint: str = ""
    sources: int = 1  # entries merged into it (queryids, log lines, file statements)
    samples: list[list[str | None]] = field(default_factory=list)  # parameter values seen (from a log)

    @property
    def label(self) -> str:
        return " ".join(self.text.split())[:120]


def fingerprint(sql: str) -> str:
    """The statement's parse-tree fingerprint, or its lower-cased words when it does not parse."""
    from pglast.parser import ParseError
    from pglast.parser import fingerprint as pg_fingerprint

    try:
        return str(pg_fingerprint(sql))
    except ParseError:
        return " ".join(sql.lower().split())


def group(statements: Iterable[Statement]) -> list[Statement]:
    """Merge statements with one fingerprint; the heaviest first."""
    merged: dict[str, Statement] = {}
    for stmt in statements:
        key = stmt.fingerprint or fingerprint(stmt.text)
        seen = merged.get(key)
        if seen is None:
            stmt.fingerprint = key
            merged[key] = stmt
            continue
        seen.calls += stmt.calls
        seen.total_ms += stmt.total_ms
        seen.sources += stmt.sources
        seen.samples.extend(stmt.samples[: max(0, 8 - len(seen.samples))])
    return sorted(merged.values(), key=lambda s: (-s.calls, s.text))


def relevant(sql: str) -> bool:
    """A DML statement of the application, not a catalog query, a utility command or the advisor's own."""
    head = sql.lstrip().split(None, 1)[0].lower() if sql.strip() else ""
    return head.startswith(KINDS) and SKIP.search(sql) is None


def read_file(path: Path) -> list[Statement]:
    """Statements of a SQL file separated by `;`; a `-- calls: N` comment before one gives its weight."""
    import pglast

    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        raise AdvisorUsageError(f"cannot read workload file {path}: {exc.__class__.__name__}: {exc}; "
                                "give a readable file of SQL statements") from exc
    try:
        pieces = pglast.split(text, with_parser=False)
    except Exception as exc:  # the scanner refuses unterminated quotes and comments
        raise AdvisorUsageError(f"cannot split {path} into statements: {exc}") from exc
    statements = []
    for piece in pieces:
        match = CALLS.search(piece)
        calls = int(match.group(1)) if match else 1
        if relevant(_without_comments(piece)):
            statements.append(Statement(_without_comments(piece).strip(), calls=calls))
    return group(statements)


def _without_comments(sql: str) -> str:
    return re.sub(r"--[^\n]*|/\*.*?\*/", " ", sql, flags=re.DOTALL)


STAT_STATEMENTS = """
SELECT s.query, s.calls, s.total_exec_time
FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
WHERE d.datname = current_database() AND s.calls > 0
"""


def read_stat_statements(conn: Any) -> list[Statement]:
    """The statements pg_stat_statements recorded for the connected database."""
    import psycopg

    try:
        rows = conn.execute(STAT_STATEMENTS).fetchall()
    except psycopg.Error as exc:
        conn.rollback()
        raise AdvisorUnavailable(
            "pg_stat_statements is not readable here: CREATE EXTENSION pg_stat_statements in this database and "
            "add it to shared_preload_libraries, or give a statement file with --file "
            f"({str(exc).strip().splitlines()[0]})") from exc
    return group(Statement(q, calls=int(c), total_ms=float(t)) for q, c, t in rows if relevant(q))


LOG_LINE = re.compile(r"(?:LOG|LOCATION):\s+duration: ([\d.]+) ms\s+(?:statement|execute [^:]*):\s(.*)", re.DOTALL)
LOG_PARAMS = re.compile(r"DETAIL:\s+parameters: (.*)")
LOG_PHASE = re.compile(r"(?:LOG|ERROR|STATEMENT|WARNING):\s")
PARAM = re.compile(r"\$(\d+) = (NULL|'((?:[^']|'')*)')")
NEW_ENTRY = re.compile(r"^\S")


def read_log(path: Path) -> list[Statement]:
    """Statements of a PostgreSQL log written with `log_min_duration_statement` (`duration: ... statement:` and
    `execute ...:` lines); the `parameters:` details become the representative values of their statement."""
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError as exc:
        raise AdvisorUsageError(f"cannot read log file {path}: {exc}; give a PostgreSQL log file") from exc
    statements: list[Statement] = []
    current: Statement | None = None  # the statement the next `parameters:` detail belongs to
    for entry in _entries(lines):
        match = LOG_LINE.search(entry)
        if match is not None:
            sql = match.group(2).strip()
            current = Statement(sql, total_ms=float(match.group(1))) if relevant(sql) else None
            statements += [current] if current is not None else []
            continue
        params = LOG_PARAMS.search(entry)
        if params is not None and current is not None:
            values = {int(n): (None if raw == "NULL" else v.replace("''", "'"))
                      for n, raw, v in PARAM.findall(params.group(1))}
            current.samples.append([values.get(i) for i in range(1, max(values, default=0) + 1)])
            current = None
        elif LOG_PHASE.search(entry) is not None:
            current = None  # the parse and bind steps of the extended protocol log their own details
    if not statements:
        raise AdvisorUsageError(f"no statements with durations in {path}: log with log_min_duration_statement=0")
    return group(statements)


def _entries(lines: list[str]) -> list[str]:
    """Log lines joined with their tab-indented continuation lines."""
    entries: list[str] = []
    for line in lines:
        if entries and not NEW_ENTRY.match(line):
            entries[-1] += "\n" + line.strip()
        else:
            entries.append(line)
    return entries
