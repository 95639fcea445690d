"""The core's commands, mounted at the root of `erpops`: db, config, check, seed, report, token, serve, demo."""

from __future__ import annotations

import typer

from erpcore import output

db_app = typer.Typer(help="Schema migrations (Alembic).", no_args_is_help=True)
config_app = typer.Typer(help="The effective configuration.", no_args_is_help=True)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head", help="Target revision.")) -> None:
    """Apply migrations to the configured database.

    Example: erpops db upgrade
    """
    from erpcore.db import make_engine
    from erpcore.migrate import upgrade

    engine = make_engine()
    rev = upgrade(engine, revision)
    output.stderr().print(f"database at revision [bold]{rev}[/] ({engine.url.render_as_string()})")


@db_app.command("current")
def db_current(as_json: bool = output.JsonFlag) -> None:
    """Show the revision the database is at and the newest one available.

    Example: erpops db current --json
    """
    from erpcore.db import make_engine
    from erpcore.migrate import current, head

    data = {"current": current(make_engine()), "head": head()}
    if as_json:
        output.print_json(data)
    else:
        state = "up to date" if data["current"] == data["head"] else "behind: run `erpops db upgrade`"
        output.stdout().print(f"current {data['current']}  head {data['head']}  ({state})")


@config_app.command("show")
def config_show(as_json: bool = output.JsonFlag) -> None:
    """Print the effective configuration with secrets masked.

    Example: ERPOPS_DATABASE_URL=postgresql://app:pw@db/erp erpops config show
    """
    from erpcore.config import load_settings, masked

    data = masked(load_settings())
    if as_json:
        output.print_json(data)
        return
    rows = [(k, v) for k, v in _flatten(data)]
    output.stdout().print(output.table("erpops configuration", ["setting", "value"], rows))


def _flatten(data: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def register(app: typer.Typer) -> None:
    """Mount the core's commands on the root app."""
    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
