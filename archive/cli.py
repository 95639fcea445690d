"""`erpops archive`: Move data older than the retention window out of production, verified and resumable."""

from __future__ import annotations

import typer

app = typer.Typer(help="Move data older than the retention window out of production, verified and resumable.", no_args_is_help=True)
