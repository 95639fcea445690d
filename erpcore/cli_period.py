"""`erpops period close|reopen|list`: month-end close from the shell, as a named actor (the same service as the API)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from opskit import output

period_app = typer.Typer(help="Fiscal periods (calendar months): close, reopen, list.\n\n"
                              "Example: erpops period close 2026-11", no_args_is_help=True)
PERIOD = typer.Argument(help="The month, YYYY-MM.", metavar="PERIOD")


def _view(row: dict[str, Any]) -> str:
    who = f" by {row['closed_by']}" if row.get("closed_by") else ""
    return f"{row['year']:04d}-{row['month']:02d}: {row['status']}{who}"


@period_app.command("close")
def close(period: Annotated[str, PERIOD], as_json: bool = output.JsonFlag) -> None:
    """Close a month: refused (exit 1, naming them) while it has unfinished documents or `erpops check` fails.

    Example: erpops period close 2026-11 --json
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import periods
    from erpcore.services.bootstrap import bootstrap

    doc = periods.close_period(bootstrap(open_database()).uow(cli_actor()), period)
    output.render(doc.row, as_json, _view)


@period_app.command("reopen")
def reopen(period: Annotated[str, PERIOD], as_json: bool = output.JsonFlag) -> None:
    """Reopen a closed month so that postings dated in it are accepted again.

    Example: erpops period reopen 2026-11
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import periods
    from erpcore.services.bootstrap import bootstrap

    doc = periods.reopen_period(bootstrap(open_database()).uow(cli_actor()), period)
    output.render(doc.row, as_json, _view)


@period_app.command("list")
def list_(as_json: bool = output.JsonFlag) -> None:
    """Periods that have been closed or reopened, newest first (a month not listed is open).

    Example: erpops period list --json
    """
    from erpcore.migrate import open_database
    from erpcore.services import periods

    with open_database().connect() as conn:
        rows = periods.list_periods(conn)
    columns = ["period", "status", "closed at", "closed by"]
    output.render(rows, as_json, lambda rs: output.table("Fiscal periods", columns, [
        (f"{r['year']:04d}-{r['month']:02d}", r["status"], r["closed_at"], r["closed_by"]) for r in rs]))


def register(app: typer.Typer) -> None:
    app.add_typer(period_app, name="period")
