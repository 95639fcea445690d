"""What each `erpops advisor` command does, between reading its settings and rendering its result.

The engine is chosen by the database URL's scheme from `ANALYZERS`: PostgreSQL (hypopg) or SQLite
(EXPLAIN QUERY PLAN on a statement file).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from advisor.errors import AdvisorUsageError
from advisor.settings import AdvisorSettings

Progress = Callable[[str], None] | None


def engine_of(url: str) -> str:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    return "postgresql" if scheme in ("postgresql", "postgres") else scheme


def _pg_analyze(settings: AdvisorSettings, url: str, file: Path | None, log: Path | None, verify: bool,
                concurrently: bool, progress: Progress) -> Any:
    from advisor.analyze import Options, analyze, connect
    from advisor.selection import Budget
    from advisor.workload import read_file, read_log, read_stat_statements

    statements = read_file(file) if file else read_log(log) if log else None
    max_bytes = int(settings.max_size_mb * 2**20) if settings.max_size_mb else None
    options = Options(Budget(settings.max_indexes, max_bytes, settings.min_benefit), settings.samples,
                      settings.limit_value)
    conn = connect(url)
    try:
        if statements is None:
            statements = read_stat_statements(conn)
        if not statements:
            raise AdvisorUsageError("the workload has no statements to analyze: run the application first, or "
                                    "give --file with SQL statements")
        report = analyze(conn, statements, options, progress)
        if verify:
            from advisor.verify import verify as run_verify

            report.verification = run_verify(conn, report, concurrently, progress)
        return report
    finally:
        conn.close()


def _sqlite_analyze(settings: AdvisorSettings, url: str, file: Path | None, log: Path | None, verify: bool,
                    concurrently: bool, progress: Progress) -> Any:
    from advisor.sqlite_advice import analyze_sqlite
    from advisor.workload import read_file

    if file is None or log is not None or verify:
        raise AdvisorUsageError("on SQLite the advisor reads a statement file: give --file (no --log, "
                                "no --verify; SQLite keeps no statement statistics)")
    return analyze_sqlite(url, read_file(file), settings.max_indexes)


ANALYZERS: dict[str, Callable[..., Any]] = {"postgresql": _pg_analyze, "sqlite": _sqlite_analyze}


def analyze_command(settings: AdvisorSettings, file: Path | None, log: Path | None, verify: bool,
                    concurrently: bool, progress: Progress) -> Any:
    """The analysis report for the configured database and the chosen workload source."""
    if file is not None and log is not None:
        raise AdvisorUsageError("give --file or --log, not both")
    if concurrently and not verify:
        raise AdvisorUsageError("--concurrently goes with --verify")
    url = settings.effective_database_url()
    analyzer = ANALYZERS.get(engine_of(url))
    if analyzer is None:
        raise AdvisorUsageError(f"the advisor knows PostgreSQL and SQLite, not {engine_of(url)}: give "
                                "--database-url postgresql://... or sqlite:///...")
    return analyzer(settings, url, file, log, verify, concurrently, progress)


def health_command(settings: AdvisorSettings) -> Any:
    """Unused, duplicate and invalid indexes of the configured database."""
    url = settings.effective_database_url()
    if engine_of(url) == "sqlite":
        from advisor.sqlite_advice import health_sqlite

        return health_sqlite(url)
    from advisor.analyze import connect
    from advisor.catalog import read_catalog
    from advisor.health import report

    conn = connect(url)
    try:
        return report(read_catalog(conn))
    finally:
        conn.close()


def apply_command(settings: AdvisorSettings, plan: Path, only: list[str]) -> Any:
    """Create the plan's indexes concurrently and record them."""
    from advisor.analyze import connect
    from advisor.apply import apply_plan, check_timeout, read_plan

    chosen = read_plan(plan, only)
    check_timeout(settings.lock_timeout)
    conn = connect(_postgres_only(settings, "apply"))
    try:
        return apply_plan(conn, chosen, settings.lock_timeout)
    finally:
        conn.close()


def undo_command(settings: AdvisorSettings, names: list[str]) -> Any:
    """Drop what an apply created."""
    from advisor.analyze import connect
    from advisor.apply import check_timeout, undo

    check_timeout(settings.lock_timeout)
    conn = connect(_postgres_only(settings, "undo"))
    try:
        return undo(conn, names, settings.lock_timeout)
    finally:
        conn.close()


def _postgres_only(settings: AdvisorSettings, command: str) -> str:
    url = settings.effective_database_url()
    if engine_of(url) != "postgresql":
        raise AdvisorUsageError(f"`erpops advisor {command}` builds indexes concurrently, which needs PostgreSQL; "
                                f"got {engine_of(url)}")
    return url
