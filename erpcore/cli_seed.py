"""`erpops seed`: deterministic history ending today, with a progress bar and a summary of what was written."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

import typer

from opskit import output

if TYPE_CHECKING:
    from erpcore.seed import SeedSummary


def seed_command(
    years: int = typer.Option(3, "--years", min=1, help="Years of history, ending today."),
    orders_per_day: int = typer.Option(50, "--orders-per-day", min=1, help="Average sales orders a day."),
    seed: int = typer.Option(1, "--seed", help="Random seed: the same seed writes the same history."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Migrate the configured (empty) database and seed realistic history ending today.

    Customers, suppliers, items; purchase and sales flows with seasonality, invoices, receipts, payments.

    Most documents are closed, the recent ones open at every stage; the result passes `erpops check`.

    Example: erpops seed --years 5 --orders-per-day 200 --seed 1
    """
    from erpcore.db import make_engine
    from erpcore.migrate import upgrade
    from erpcore.seed import seed as run_seed

    engine = make_engine()
    upgrade(engine)
    with _progress(quiet) as tick:
        summary = run_seed(engine, years, orders_per_day, seed, progress=tick)
    if as_json:
        output.print_json(summary_data(summary))
    else:
        _render(summary)


def summary_data(summary: SeedSummary) -> dict[str, Any]:
    """The summary with stable keys, for --json."""
    return {
        "start": summary.start, "end": summary.end, "orders_per_day": summary.orders_per_day, "seed": summary.seed,
        "rows": summary.rows, "total_rows": summary.total_rows, "open_documents": summary.open_documents,
        "capital": summary.capital, "duration_s": round(summary.duration_s, 3),
        "rows_per_s": round(summary.rows_per_s),
    }


class _Bar:
    """A rich progress bar on stderr fed by the seeder's (done, total) callback."""

    def __init__(self, quiet: bool) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("seeding days"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=output.stderr(), disable=quiet)
        self._task = self._progress.add_task("seed", total=None)
        self._started = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        if self._started:
            self._progress.stop()

    def __call__(self, done: int, total: int) -> None:
        if not self._started:  # not before the database has accepted the seed
            self._started = True
            self._progress.start()
        self._progress.update(self._task, completed=done, total=total)


def _progress(quiet: bool) -> _Bar:
    return _Bar(quiet)


def _render(summary: SeedSummary) -> None:
    console = output.stdout()
    rows = [(table, f"{count:,}") for table, count in summary.rows.items()]
    rows.append(("[bold]total[/]", f"[bold]{summary.total_rows:,}[/]"))
    console.print(output.table(f"seeded {summary.start} .. {summary.end}", ["table", "count"], rows))
    console.print(output.table("still open when history ends", ["stage", "count"],
                               [(stage, f"{count:,}") for stage, count in summary.open_documents.items()]))
    console.print(f"{summary.orders_per_day} orders/day, seed {summary.seed}: {summary.total_rows:,} rows in "
                  f"{summary.duration_s:.1f} s ({summary.rows_per_s:,.0f} rows/s); opening capital {summary.capital:,}")


def register(app: typer.Typer) -> None:
    """Mount `erpops seed` on the root app."""
    app.command("seed")(seed_command)
