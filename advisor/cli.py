"""`erpops advisor`: Index advice: read the workload, recommend indexes with measured benefit, report unused ones."""

from __future__ import annotations

import typer

app = typer.Typer(help="Index advice: read the workload, recommend indexes with measured benefit, report unused ones.", no_args_is_help=True)
