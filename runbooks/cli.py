"""`erpops runbook`: A runbook for every alert, rendered in the terminal."""

from __future__ import annotations

import typer

app = typer.Typer(help="A runbook for every alert, rendered in the terminal.", no_args_is_help=True)
