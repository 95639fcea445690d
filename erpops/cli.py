"""Root typer app: mounts the core's commands and one sub-app per tool, and maps errors to exit codes.

Expected errors (`opskit.errors.OpsError` and below: the ERP's tree and every tool's) print one `error:` line
on stderr and exit with their code from the one table in `opskit.exitcodes`; anything else is a bug and keeps
its traceback. SIGTERM unwinds like Ctrl-C, so every command's clean-up runs (exit 143, Ctrl-C 130).
Sub-apps import their heavy dependencies inside commands, so `erpops --help` stays fast.
"""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version

import click
import typer

from advisor.cli import app as advisor_app
from archive.cli import app as archive_app
from backup.cli import app as backup_app
from erpcore.cli import register as register_core
from failover.cli import app as failover_app
from loadtest.cli import app as loadtest_app
from monitor.cli import app as monitor_app
from opskit import output
from opskit.errors import OpsError
from opskit.exitcodes import ExitCode, table_text
from opskit.signals import Terminated, sigterm_unwinds
from runbooks.cli import app as runbook_app


def _version(value: bool) -> None:
    if value:
        try:
            typer.echo(f"erpops {version('erpops')}")
        except PackageNotFoundError:  # pragma: no cover - running from a tree that was never installed
            typer.echo("erpops (not installed)")
        raise typer.Exit()


HELP = """Operations, observability and resilience toolkit around a compact ERP core.

Example: erpops check --json"""

app = typer.Typer(
    name="erpops",
    help=HELP,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    epilog=table_text(),
)


@app.callback()
def _root(
    show_version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                      help="Print the version and exit."),
) -> None:
    """Operations, observability and resilience toolkit around a compact ERP core."""


register_core(app)

# typer 0.29 raises the exceptions of its own vendored click (usage errors) and typer.Exit/Abort; older
# typer raises the installed click's. Both kinds are caught so that a usage error is never a traceback.
try:
    from typer._click.exceptions import ClickException as TyperClickException
except ImportError:  # pragma: no cover - older typer
    TyperClickException = click.ClickException  # type: ignore[misc,assignment]
ABORT = (click.exceptions.Abort, typer.Abort)
USAGE = (click.ClickException, TyperClickException)
EXIT = (click.exceptions.Exit, typer.Exit)
app.add_typer(monitor_app, name="monitor")
app.add_typer(runbook_app, name="runbook")
app.add_typer(loadtest_app, name="loadtest")
app.add_typer(archive_app, name="archive")
app.add_typer(advisor_app, name="advisor")
app.add_typer(backup_app, name="backup")
app.add_typer(failover_app, name="failover")


def main(argv: list[str] | None = None) -> None:
    """Entry point of the `erpops` console script."""
    command = typer.main.get_command(app)
    try:
        with sigterm_unwinds():
            code = command.main(args=argv, prog_name="erpops", standalone_mode=False)
    except OpsError as exc:
        output.error(exc.message)
        sys.exit(int(exc.exit_code))
    except (KeyboardInterrupt, *ABORT):
        output.error("interrupted; everything this command started was stopped")
        sys.exit(ExitCode.INTERRUPTED)
    except Terminated:
        output.error("terminated; everything this command started was stopped")
        sys.exit(ExitCode.TERMINATED)
    except USAGE as exc:  # one `error:` line like every other expected error, with where to look
        ctx = getattr(exc, "ctx", None)
        output.error(exc.format_message() + (f" (see `{ctx.command_path} --help`)" if ctx is not None else ""))
        sys.exit(exc.exit_code)
    except EXIT as exc:
        sys.exit(exc.exit_code)
    sys.exit(code if isinstance(code, int) else 0)
