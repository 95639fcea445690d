"""`erpops loadtest`: Locust load suites for the ERP with SLO gates that fail CI."""

from __future__ import annotations

import typer

app = typer.Typer(help="Locust load suites for the ERP with SLO gates that fail CI.", no_args_is_help=True)
