"""`erpops failover`: Failover drills under live ERP load that measure RTO and RPO."""

from __future__ import annotations

import typer

app = typer.Typer(help="Failover drills under live ERP load that measure RTO and RPO.", no_args_is_help=True)
