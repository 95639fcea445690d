"""`erpops archive`: Move data older than the retention window out of production, verified and resumable."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opskit import output

if TYPE_CHECKING:
    from archive.context import Archive

app = typer.Typer(help="Move data older than the retention window out of production, verified and resumable.\n\n"
                       "Example: erpops archive plan --destination sqlite:///var/archive.sqlite",
                  no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="erpops.toml to read (default ERPOPS_CONFIG).")]
SourceOpt = Annotated[str | None, typer.Option("--database-url", help="Production database (default: configured).")]
DestOpt = Annotated[str | None, typer.Option("--destination", help="Archive database URL ([archive] destination_url).")]
FamilyOpt = Annotated[list[str] | None, typer.Option("--family", help="Only this policy (repeatable): sales_orders, "
                                                     "purchase_orders, journal_entries, stock_moves, ...")]
YearsOpt = Annotated[float | None, typer.Option("--residence-years", help="Residence time for the chosen families.")]
ForceOpt = Annotated[bool, typer.Option("--force", help="Allow a residence time under one year.")]
ParquetOpt = Annotated[str | None, typer.Option("--parquet", help="Also write Parquet: a directory or s3://bucket/prefix.")]
ClosedOpt = Annotated[str | None, typer.Option("--closed-through", help="Last day of the last closed period "
                                                                        "(YYYY-MM-DD; without a fiscal_period table).")]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """`90`, `90s`, `30m`, `2h` -> seconds."""
    from erpcore.exceptions import ConfigError

    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*", text)
    if not match:
        raise ConfigError(f"--max-duration {text!r} is not a duration like 90s, 30m or 2h")
    return float(match.group(1)) * UNITS[match.group(2) or "s"]


def _open(config: Path | None, source: str | None, dest: str | None, families: list[str] | None,
          years: float | None, force: bool, parquet: str | None = None, closed: str | None = None,
          create: bool = True, **tuning: Any) -> Archive:
    from archive import families as registry
    from archive.context import open_archive
    from archive.settings import ParquetSettings, PolicySettings, load_archive_settings
    from erpcore.exceptions import ConfigError

    settings = load_archive_settings(config)
    for name in families or []:
        registry.get(name)
    update: dict[str, Any] = {k: v for k, v in tuning.items() if v is not None}
    if source:
        update["database_url"] = source
    if dest:
        update["destination_url"] = dest
    if closed:
        try:
            update["closed_through"] = dt.date.fromisoformat(closed)
        except ValueError:
            raise ConfigError(f"--closed-through {closed!r} is not a date (YYYY-MM-DD)") from None
    if years is not None:
        policies = dict(settings.policies)
        for name in families or list(registry.FAMILIES):
            policies[name] = PolicySettings(residence_years=years) if years > 0 else _bad_years(years)
        update["policies"] = policies
    if parquet:
        update["parquet"] = _parquet(parquet, settings.parquet or ParquetSettings())
    return open_archive(settings.model_copy(update=update), force=force, create=create)


def _bad_years(years: float) -> Any:
    from erpcore.exceptions import ConfigError

    raise ConfigError(f"--residence-years must be positive, got {years:g}")


def _parquet(target: str, base: Any) -> Any:
    if target.startswith("s3://"):
        bucket, _, prefix = target[5:].partition("/")
        return base.model_copy(update={"kind": "s3", "bucket": bucket, "prefix": prefix or base.prefix})
    return base.model_copy(update={"kind": "local", "path": Path(target)})


@app.command("plan")
def plan_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                 family: FamilyOpt = None, residence_years: YearsOpt = None, force: ForceOpt = False,
                 closed_through: ClosedOpt = None, as_json: bool = output.JsonFlag) -> None:
    """Dry run: per family what would move (documents, rows, bytes), what stays and why. Writes nothing.

    Example: erpops archive plan --destination sqlite:///var/archive.sqlite --family sales_orders
    """
    from archive.plan import make_plan
    from archive.render import render_plan

    ax = _open(config, database_url, destination, family, residence_years, force, closed=closed_through,
               create=False)
    plan = make_plan(ax, family)
    if as_json:
        output.print_json(plan)
    else:
        render_plan(plan)


@app.command("run")
def run_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                family: FamilyOpt = None, residence_years: YearsOpt = None, force: ForceOpt = False,
                parquet: ParquetOpt = None, closed_through: ClosedOpt = None,
                max_rows: Annotated[int | None, typer.Option(help="Stop after this many rows (resumable).", min=1)] = None,
                max_duration: Annotated[str | None, typer.Option(help="Stop after this long, e.g. 30m.")] = None,
                batch_size: Annotated[int | None, typer.Option(help="Documents per batch, at most.", min=1)] = None,
                batch_seconds: Annotated[float | None, typer.Option(
                    help="Size batches to hold their locks about this long (0: always --batch-size).", min=0)] = None,
                sleep: Annotated[float | None, typer.Option(help="Seconds to sleep after each batch.", min=0)] = None,
                max_rows_per_second: Annotated[float | None, typer.Option(help="Rows/s cap (0: none).", min=0)] = None,
                lock_timeout_ms: Annotated[int | None, typer.Option(help="Never wait longer for a lock.", min=1)] = None,
                no_check: Annotated[bool, typer.Option("--no-check", help="Skip `erpops check` before and after.")] = False,
                quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
                as_json: bool = output.JsonFlag) -> None:
    """Archive in throttled, verified batches; resumes an unfinished run; exit 0 done or bounded, 1 check failed.

    Example: erpops archive run --destination sqlite:///var/archive.sqlite --max-duration 30m --max-rows 100000
    """
    from archive.render import progress_printer, render_run
    from archive.runner import Bounds, run_archive
    from archive.signals import stop_on_signals

    bound_s = parse_duration(max_duration) if max_duration else None
    ax = _open(config, database_url, destination, family, residence_years, force, parquet, closed_through,
               batch_size=batch_size, batch_seconds=batch_seconds, sleep_seconds=sleep,
               max_rows_per_second=max_rows_per_second, lock_timeout_ms=lock_timeout_ms)
    with stop_on_signals() as stop:
        result = run_archive(ax, family, Bounds(max_rows, bound_s, stop), None if quiet else progress_printer(),
                             check=not no_check)
    if as_json:
        output.print_json(result)
    else:
        render_run(result)
    raise typer.Exit(stop.exit_code or (0 if result.check_ok else 1))


@app.command("status")
def status_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                   prometheus: Annotated[bool, typer.Option(help="Print the backlog as Prometheus metrics.")] = False,
                   as_json: bool = output.JsonFlag) -> None:
    """Recent runs and checkpoints, archived batches and rows per family (with --prometheus: the backlog gauge).

    Example: erpops archive status --destination sqlite:///var/archive.sqlite
    """
    from archive.render import metrics_text, render_status
    from archive.verify import status

    ax = _open(config, database_url, destination, None, None, False)
    if prometheus:
        from archive.plan import make_plan

        typer.echo(metrics_text(make_plan(ax), ax), nl=False)
        return
    result = status(ax)
    if as_json:
        output.print_json(result)
    else:
        render_status(result)


@app.command("verify")
def verify_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                   parquet: ParquetOpt = None,
                   batch: Annotated[list[int] | None, typer.Option("--batch", help="Only this batch (repeatable).")] = None,
                   as_json: bool = output.JsonFlag) -> None:
    """Re-hash every archived batch against its manifest, look for duplicates and orphans, run `erpops check`.

    Example: erpops archive verify --destination sqlite:///var/archive.sqlite
    """
    from archive.render import render_verify
    from archive.verify import verify

    ax = _open(config, database_url, destination, None, None, False, parquet)
    result = verify(ax, batch)
    if as_json:
        output.print_json({**output.to_jsonable(result), "ok": result.ok})
    else:
        render_verify(result)
    raise typer.Exit(0 if result.ok else 1)


@app.command("restore")
def restore_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                    batch: Annotated[list[int] | None, typer.Option("--batch", help="Batch id (repeatable).")] = None,
                    document: Annotated[str | None, typer.Option("--document", help="Document number.")] = None,
                    date_from: Annotated[str | None, typer.Option("--from", help="Documents dated from (YYYY-MM-DD).")] = None,
                    date_to: Annotated[str | None, typer.Option("--to", help="Documents dated until (YYYY-MM-DD).")] = None,
                    family: Annotated[str | None, typer.Option("--family", help="Only this family.")] = None,
                    as_json: bool = output.JsonFlag) -> None:
    """Bring archived documents back into production (newest batch first), verified by count and hash.

    Example: erpops archive restore --destination sqlite:///var/archive.sqlite --document SO-2021-0000123
    """
    from archive.restore import Selection, restore

    ax = _open(config, database_url, destination, [family] if family else None, None, False)
    sel = Selection(tuple(batch or ()), document, _date(date_from, "--from"), _date(date_to, "--to"), family)
    result = restore(ax, sel)
    if as_json:
        output.print_json(result)
        return
    for line in result.reasons:
        output.stdout().print(line)
    output.stdout().print(f"restored {result.documents} document(s) and {result.postings} posting(s), "
                          f"{result.rows} rows from "
                          f"{len(result.batches)} batch(es)")


def _date(text: str | None, option: str) -> dt.date | None:
    from erpcore.exceptions import ConfigError

    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"{option} {text!r} is not a date (YYYY-MM-DD)") from None


@app.command("show")
def show_command(number: Annotated[str, typer.Argument(help="Document number, e.g. SO-2021-0000123.")],
                 config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                 as_json: bool = output.JsonFlag) -> None:
    """Show an archived document with its whole closure, read from the archive.

    Example: erpops archive show SO-2021-0000123 --destination sqlite:///var/archive.sqlite
    """
    from archive.render import render_shown
    from archive.show import show

    ax = _open(config, database_url, destination, None, None, False)
    shown = show(ax, number)
    if as_json:
        output.print_json(shown)
    else:
        render_shown(shown)


@app.command("views")
def views_command(config: ConfigOpt = None, database_url: SourceOpt = None, destination: DestOpt = None,
                  as_json: bool = output.JsonFlag) -> None:
    """Create `<table>_history` views (production UNION ALL archive) for reports over the whole history.

    Example: erpops archive views --destination "postgresql://erp@db/erp?options=-csearch_path%3Darchive"
    """
    from archive.views import create_history_views

    result = create_history_views(_open(config, database_url, destination, None, None, False))
    if as_json:
        output.print_json(result)
    else:
        output.stdout().print(f"{len(result.views)} history views over production and schema {result.schema}: "
                              + ", ".join(result.views))
