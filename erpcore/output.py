"""The one output contract of every erpops command: rich tables for people, stable JSON for machines.

Rendering helpers only; engines return data and never print.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from enum import StrEnum
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


class Format(StrEnum):
    TABLE = "table"
    JSON = "json"


FormatOption = typer.Option(Format.TABLE, "--format", "-f", help="table for people, json for scripts.")
JsonFlag = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")


def stdout() -> Console:
    return Console()


def stderr() -> Console:
    return Console(stderr=True)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "_asdict"):
        return to_jsonable(value._asdict())
    if hasattr(value, "__dataclass_fields__"):
        return to_jsonable({k: getattr(value, k) for k in value.__dataclass_fields__})
    return value


def print_json(value: Any) -> None:
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2, sort_keys=False) + "\n")


def table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Table:
    t = Table(title=title, header_style="bold")
    for col in columns:
        numeric = col.lower() in {"debit", "credit", "balance", "on hand", "reserved", "value", "avg cost", "count"}
        t.add_column(col, justify="right" if numeric else "left")
    for row in rows:
        t.add_row(*("" if v is None else str(v) for v in row))
    return t
