"""`erpops monitor`: Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks."""

from __future__ import annotations

import typer

app = typer.Typer(help="Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks.", no_args_is_help=True)
