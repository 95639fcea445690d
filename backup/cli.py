"""`erpops backup`: Multi-site backups, verification, point-in-time restore and restore drills."""

from __future__ import annotations

import typer

app = typer.Typer(help="Multi-site backups, verification, point-in-time restore and restore drills.", no_args_is_help=True)
