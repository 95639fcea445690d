"""`erpops advisor`: index advice from the real workload, validated with hypothetical indexes; unused,
duplicate and invalid index reports; apply and undo.

Exit codes: 0 ok, 1 an operation failed (an index came out invalid), 2 bad input (unreadable workload file,
wrong engine for the option), 4 something needed is missing (hypopg, pg_stat_statements, the server).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from opskit import output

app = typer.Typer(help="Index advice from the real workload, validated with hypothetical indexes; unused, "
                       "duplicate and invalid index reports; apply and undo.\n\n"
                       "Example: erpops advisor analyze --file workload.sql --max-indexes 5", no_args_is_help=True)

UrlOpt = typer.Option("--database-url", help="Database to analyze (default: \\[advisor] or the ERP's).")
ConfigOpt = typer.Option("--config", "-c", help="erpops.toml with an \\[advisor] section (default: ERPOPS_CONFIG).")


def _settings(config: Path | None, url: str | None, **overrides: Any) -> Any:
    from advisor.settings import load_advisor_settings

    return load_advisor_settings(config, database_url=url, **overrides)


@app.command("analyze")
def analyze(
    file: Annotated[Path | None, typer.Option(help="A file of SQL statements (`-- calls: N` before one weighs "
                                                   "it) instead of pg_stat_statements.")] = None,
    log: Annotated[Path | None, typer.Option(help="A PostgreSQL log (log_min_duration_statement) instead of "
                                                  "pg_stat_statements; its parameters become sample values.")] = None,
    database_url: Annotated[str | None, UrlOpt] = None,
    max_indexes: Annotated[int | None, typer.Option(help="Budget: at most this many indexes.", min=1)] = None,
    max_size_mb: Annotated[float | None, typer.Option(help="Budget: at most this many MB, estimated.")] = None,
    min_benefit: Annotated[float | None, typer.Option(
        help="Least share of the workload's cost one index must save (0.01 = 1%).", min=0.0, max=0.99)] = None,
    samples: Annotated[int | None, typer.Option(help="Representative parameter sets per statement.", min=0)] = None,
    verify: Annotated[bool, typer.Option(help="Build the chosen indexes on a scratch copy of their tables and "
                                              "measure the statements before and after.")] = False,
    concurrently: Annotated[bool, typer.Option(help="With --verify: build on the real tables with CREATE INDEX "
                                                    "CONCURRENTLY (dropped afterwards) instead of a copy.")] = False,
    config: Annotated[Path | None, ConfigOpt] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
    as_json: bool = output.JsonFlag,
) -> None:
    """Recommend indexes for the workload, each priced with hypopg under generic plans and sampled values.

    Example: erpops advisor analyze --file workload.sql --max-indexes 5 --database-url postgresql://localhost/erp
    """
    from advisor.run import analyze_command

    settings = _settings(config, database_url, max_indexes=max_indexes, max_size_mb=max_size_mb,
                         min_benefit=min_benefit, samples=samples)
    report = analyze_command(settings, file, log, verify, concurrently, _progress(quiet))
    if as_json:
        output.print_json(report.to_json())
        return
    from advisor.render import render_analysis

    render_analysis(output.stdout(), report)


@app.command("unused")
def unused(
    database_url: Annotated[str | None, UrlOpt] = None,
    config: Annotated[Path | None, ConfigOpt] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Indexes not scanned since the statistics were reset (keys, unique and foreign-key indexes kept),
    exact and prefix duplicates, and invalid indexes, each with its reason and DROP statement.

    Example: erpops advisor unused --json
    """
    from advisor.run import health_command

    report = health_command(_settings(config, database_url))
    if as_json:
        output.print_json(report.to_json())
        return
    from advisor.render import render_health

    render_health(output.stdout(), report)


@app.command("apply")
def apply(
    plan: Annotated[Path, typer.Argument(help="The JSON of `erpops advisor analyze --json`.")],
    only: Annotated[list[str] | None, typer.Option(help="Apply only these index names (repeatable).")] = None,
    database_url: Annotated[str | None, UrlOpt] = None,
    lock_timeout: Annotated[str | None, typer.Option(help="lock_timeout while creating (default 5s).")] = None,
    config: Annotated[Path | None, ConfigOpt] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Create the recommended indexes with CREATE INDEX CONCURRENTLY, drop any that comes out invalid, and
    record each in advisor_applied so `erpops advisor undo` can remove it.

    Example: erpops advisor apply plan.json --only ix_sales_order_status_order_date
    """
    from advisor.run import apply_command

    result = apply_command(_settings(config, database_url, lock_timeout=lock_timeout), plan, only or [])
    _render_changes(result, as_json)
    raise typer.Exit(result.exit_code)


@app.command("undo")
def undo(
    names: Annotated[list[str] | None, typer.Argument(help="Index names to drop (default: the last apply).")] = None,
    database_url: Annotated[str | None, UrlOpt] = None,
    lock_timeout: Annotated[str | None, typer.Option(help="lock_timeout while dropping (default 5s).")] = None,
    config: Annotated[Path | None, ConfigOpt] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Drop indexes an `apply` created (DROP INDEX CONCURRENTLY) and mark them undone.

    Example: erpops advisor undo ix_sales_order_status_order_date
    """
    from advisor.run import undo_command

    result = undo_command(_settings(config, database_url, lock_timeout=lock_timeout), names or [])
    _render_changes(result, as_json)
    raise typer.Exit(result.exit_code)


def _render_changes(result: Any, as_json: bool) -> None:
    if as_json:
        output.print_json(result.to_json())
        return
    from advisor.render import render_changes

    render_changes(output.stdout(), result)


def _progress(quiet: bool) -> Any:
    if quiet:
        return None
    console = output.stderr()
    return lambda message: console.print(f"advisor: {message}", highlight=False)
