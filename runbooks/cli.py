"""`erpops runbook`: A runbook for every alert, rendered in the terminal."""

from __future__ import annotations

import typer

from opskit import output

app = typer.Typer(help="A runbook for every alert, rendered in the terminal.", no_args_is_help=True)


@app.command("show")
def show(
    alert: str = typer.Argument(..., help="The alert's name, e.g. PostgresqlDown."),
    raw: bool = typer.Option(False, "--raw", help="Print the Markdown source."),
) -> None:
    """Render the runbook of an alert: Meaning, Impact, Diagnosis, Mitigation.

    Example: erpops runbook show HostOutOfDiskSpace
    """
    from rich.markdown import Markdown

    from runbooks.library import find_runbook

    book = find_runbook(alert)
    if raw:
        typer.echo(book.text, nl=False)
        return
    output.stdout().print(Markdown(book.text))


@app.command("list")
def list_runbooks(as_json: bool = output.JsonFlag) -> None:
    """List every runbook by component and alert.

    Example: erpops runbook list --json
    """
    from runbooks.library import all_runbooks

    books = all_runbooks()
    if as_json:
        output.print_json([{"alert": b.alert, "component": b.component, "path": b.path} for b in books])
        return
    output.stdout().print(output.table("runbooks", ["component", "alert", "path"],
                                       [(b.component, b.alert, b.path) for b in books]))
