"""`erpops demo`: one command from nothing to a running ERP with history, and a tour of what to try."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from opskit import output

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from erpcore.config import Settings

TOUR = """[bold]Try next[/] (in another terminal, from this folder):
{export}  export TOKEN={token}
  curl -s -H "Authorization: Bearer $TOKEN" http://{host}:{port}/api/v1/sales-orders?limit=3
  curl -s -H "Authorization: Bearer $TOKEN" "http://{host}:{port}/api/v1/reports/stock-valuation"
  .venv/bin/erpops check                      # the business invariants, one line each
  .venv/bin/erpops report trial-balance --from {start} --to {end}
  .venv/bin/erpops report stock-valuation
  .venv/bin/erpops monitor --help             # metrics, alert rules, silences
  .venv/bin/erpops runbook --help             # a runbook for every alert
  .venv/bin/erpops backup --help              # multi-site backups and restore drills
  .venv/bin/erpops failover --help            # failover drills with RTO and RPO
  .venv/bin/erpops loadtest --help            # Locust suites with SLO gates
API docs: http://{host}:{port}/api/v1/docs    Stop the API with Ctrl-C."""


def demo(
    years: Annotated[int, typer.Option(min=1, help="Years of history to seed into an empty database.")] = 3,
    orders_per_day: Annotated[int, typer.Option(min=1, help="Average sales orders a day.")] = 20,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default: api.host).")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="Port to listen on (default: api.port).")] = None,
    serve_api: Annotated[bool, typer.Option("--serve/--no-serve", help="Start the API at the end.")] = True,
) -> None:
    """Migrate, seed history if the database is empty, verify it, make an admin token, start the API.

    It uses the configured database, by default var/erpops.sqlite: every other command then works on the
    demo's data without a URL. Run again on the same database, it keeps the data and only starts the API.

    Example: erpops demo --years 3 --orders-per-day 20
    """
    import datetime as dt

    from erpcore.cli_api import listening_socket, serve_on
    from erpcore.config import default_database_url, load_settings
    from erpcore.db import make_engine
    from erpcore.migrate import upgrade

    settings = load_settings()
    host, port = host or settings.api.host, settings.api.port if port is None else port
    sock = listening_socket(host, port) if serve_api else None  # a busy port fails now, not after the seed
    try:
        engine = make_engine(settings=settings)
        upgrade(engine)
        token = _prepare(engine, settings, years, orders_per_day)
    except BaseException:
        if sock is not None:
            sock.close()
        raise
    today = dt.date.today()
    # The demo writes the default database, so the commands of the tour (and the README's) need no URL; one
    # the user chose (ERPOPS_DATABASE_URL, erpops.toml) must be exported in the other terminal too.
    url = engine.url.render_as_string(hide_password=True)
    export = "" if settings.database_url == default_database_url() else f"  export ERPOPS_DATABASE_URL={url}\n"
    if sock is not None:
        port = sock.getsockname()[1]
    output.stderr().print(TOUR.format(export=export, token=token, host=host, port=port,
                                      start=today.replace(month=1, day=1), end=today), soft_wrap=True)
    if sock is not None:
        engine.dispose()
        serve_on(sock, settings)


def _prepare(engine: Engine, settings: Settings, years: int, orders_per_day: int) -> str:
    """Seed history into an empty database, check it, and return a new admin token."""
    from sqlalchemy import func, select

    from erpcore.access import create_token
    from erpcore.check import run_check
    from erpcore.cli_seed import seed_command
    from erpcore.models import SalesOrder
    from erpcore.services.bootstrap import bootstrap

    err = output.stderr()
    with engine.connect() as conn:
        empty = not conn.scalar(select(func.count()).select_from(SalesOrder))
    if empty:
        err.print(f"seeding {years} years of history at about {orders_per_day} sales orders a day")
        seed_command(years=years, orders_per_day=orders_per_day, seed=1, quiet=False, as_json=False)
    else:
        err.print("database already holds history; keeping it")
    report = run_check(engine)
    verdict = "[green]all invariants hold[/]" if report.ok else f"[red]{len(report.violations)} violations[/]"
    err.print(f"erpops check: {verdict} ({len(report.checked)} checked in {report.duration_s:.2f}s)")
    return create_token(bootstrap(engine, settings), "admin", "demo")


def register(app: typer.Typer) -> None:
    """Add `erpops demo` to the root app."""
    app.command("demo")(demo)
