"""`erpops runbook`: A runbook for every alert, rendered in the terminal."""

from __future__ import annotations

import typer

from opskit import output
from opskit.errors import UsageError

app = typer.Typer(help="A runbook for every alert, rendered in the terminal.\n\nExample: erpops runbook show PostgresqlDown", no_args_is_help=True)


@app.command("show")
def show(
    alert: str = typer.Argument(..., help="The alert's name, e.g. PostgresqlDown."),
    raw: bool = typer.Option(False, "--raw", help="Print the Markdown source."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Render the runbook of an alert: Meaning, Impact, Diagnosis, Mitigation; exit 2 for an unknown alert.

    Example: erpops runbook show HostOutOfDiskSpace
    """
    from rich.markdown import Markdown

    from erpcore.exceptions import NotFound
    from runbooks.library import find_runbook

    try:
        book = find_runbook(alert)
    except NotFound as exc:
        raise UsageError(exc.message) from None
    if as_json:
        output.print_json({"alert": book.alert, "component": book.component, "path": book.path,
                           "sections": book.sections(), "commands": [" ".join(c) for c in book.commands()]})
    elif raw:
        typer.echo(book.text, nl=False)
    else:
        output.stdout().print(Markdown(book.text))


@app.command("list")
def list_runbooks(as_json: bool = output.JsonFlag) -> None:
    """List every runbook by component and alert.

    Example: erpops runbook list --json
    """
    from runbooks.library import all_runbooks

    rows = [{"alert": b.alert, "component": b.component, "path": b.path} for b in all_runbooks()]
    output.render(rows, as_json, lambda r: output.table("runbooks", ["component", "alert", "path"],
                                                        [(d["component"], d["alert"], d["path"]) for d in r]))
