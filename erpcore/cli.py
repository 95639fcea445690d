"""The core's commands, mounted at the root of `erpops`: db, config, check, seed, report, token, serve, demo."""

from __future__ import annotations

from typing import Annotated

import typer

from opskit import output
from opskit.exitcodes import ExitCode

db_app = typer.Typer(help="Schema migrations (Alembic).\n\nExample: erpops db upgrade", no_args_is_help=True)
config_app = typer.Typer(help="The effective configuration: erpops.toml (or ERPOPS_CONFIG) under the ERPOPS_ "
                              "environment.\n\nExample: erpops config validate", no_args_is_help=True)


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
    """Print the effective configuration of the core and every tool, secrets masked.

    Example: ERPOPS_DATABASE_URL=postgresql://app:pw@db/erp erpops config show
    """
    from erpcore.config import load_all_sections

    sections = load_all_sections()
    if as_json:
        output.print_json({r.name: r.values if r.error is None else {"error": r.error} for r in sections})
        return
    rows: list[tuple[str, object]] = []
    for r in sections:
        prefix = "" if r.name == "core" else f"{r.name}."
        rows += _flatten(r.values, prefix) if r.values is not None else [(r.name, f"[red]invalid:[/] {r.error}")]
    output.stdout().print(output.table("erpops configuration", ["setting", "value"], rows))


@config_app.command("validate")
def config_validate(as_json: bool = output.JsonFlag) -> None:
    """Check the configuration offline before any work starts; exit 2 naming each section that is wrong.

    Reads erpops.toml (or ERPOPS_CONFIG) and the ERPOPS_ environment for the core and every tool.

    Example: ERPOPS_CONFIG=/etc/erpops.toml erpops config validate
    """
    from erpcore.config import load_all_sections

    sections = load_all_sections()
    bad = [r for r in sections if r.error is not None]
    if as_json:
        output.print_json({"ok": not bad, "sections": {r.name: r.error or "ok" for r in sections}})
    else:
        rows = [(r.name, "[red]invalid[/]" if r.error else "[green]ok[/]", r.error or "") for r in sections]
        output.stdout().print(output.table("erpops config validate", ["section", "", "detail"], rows))
    if bad:
        names = ", ".join(r.name for r in bad)
        reasons = {r.error for r in bad}
        detail = reasons.pop() if len(reasons) == 1 else "fix erpops.toml or the ERPOPS_ environment as shown"
        output.error(f"configuration invalid in {len(bad)} section(s) ({names}): {detail}")
        raise typer.Exit(ExitCode.USAGE)


def _flatten(data: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    rows: list[tuple[str, object]] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            rows.extend(_flatten(value, name + "."))
        else:
            rows.append((name, value))
    return rows


def check(
    only: Annotated[list[str] | None, typer.Option("--only", help="Check only this invariant (repeatable).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Verify the ERP's business invariants; exit 1 naming each one that fails.

    Checks that journal entries balance, the trial balance is zero, the stock ledger sums to the stock
    balances, no stock is negative, reservations fit on hand, every posted document has its entry, and
    the AR, AP and inventory sub-ledgers agree with their control accounts.

    Example: erpops check --json
    """
    from erpcore.check import INVARIANTS, run_check
    from erpcore.migrate import open_database

    report = run_check(open_database(), only=only or None)
    failed = {v.invariant: v for v in report.violations}
    if as_json:
        output.print_json({"ok": report.ok, "checked": report.checked, "duration_s": round(report.duration_s, 3),
                           "violations": report.violations})
    else:
        described = {i.name: i.description for i in INVARIANTS}
        rows = [("[red]FAIL[/]" if name in failed else "[green]ok[/]", name,
                 failed[name].message if name in failed else described[name]) for name in report.checked]
        output.stdout().print(output.table(f"erpops check ({report.duration_s:.2f}s)", ["", "invariant", "detail"],
                                           rows))
    if not report.ok:
        for v in report.violations:
            output.stderr().print(f"[red]violation[/] {v.invariant}: {v.message}")
        raise typer.Exit(ExitCode.FAILED)


def register(app: typer.Typer) -> None:
    """Mount the core's commands on the root app."""
    from erpcore import (
        cli_access,
        cli_api,
        cli_demo,
        cli_period,
        cli_production,
        cli_returns,
        cli_rules,
        cli_seed,
    )

    app.add_typer(db_app, name="db")
    app.add_typer(config_app, name="config")
    app.command("check")(check)
    cli_seed.register(app)
    cli_api.register(app)
    cli_demo.register(app)
    cli_period.register(app)
    cli_production.register(app)
    from erpcore import cli_payroll

    cli_payroll.register(app)
    cli_returns.register(app)
    cli_rules.register(app)
    cli_access.register(app)
    from erpcore import cli_outbox

    cli_outbox.register(app)
