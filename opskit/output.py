"""The one output contract of every erpops command: rich tables for people, stable JSON for machines.

Results go to stdout (a table, or JSON with `--json`; long lists stream as one JSON array written row by row);
progress, logs and `error:` lines go to stderr. Engines return data and never print: only CLIs call this.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import sys
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table

JsonFlag = typer.Option(False, "--json", help="Print JSON on stdout instead of a table.")
QuietFlag = typer.Option(False, "--quiet", "-q", help="No progress on stderr.")

# Headers of columns that hold numbers: right-aligned and never cut (they wrap whole or widen the table).
NUMERIC_HEADERS = frozenset({
    "debit", "credit", "balance", "on hand", "reserved", "value", "avg cost", "count", "rows", "amount", "net",
    "tax", "total", "quantity", "qty", "bytes", "size", "seconds", "ms", "rps", "p50", "p95", "p99", "calls",
})


def stdout() -> Console:
    """Console for results. Piped, it is as wide as the content, so no number is ever cut at 80 columns."""
    console = Console()
    return console if console.is_terminal else Console(width=10_000, soft_wrap=True)


def stderr() -> Console:
    """Console for progress and notes; piped, it does not wrap long lines (paths, commands) at 80 columns."""
    console = Console(stderr=True)
    return console if console.is_terminal else Console(stderr=True, width=10_000, soft_wrap=True)


def to_jsonable(value: Any) -> Any:
    """Decimals as strings (exact), dates ISO 8601, enums by value, dataclasses and rows as objects."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if hasattr(value, "_asdict"):  # before tuples: a named tuple (a psycopg row) is an object, not an array
        return to_jsonable(value._asdict())
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    return value


def print_json(value: Any) -> None:
    """One JSON document on stdout."""
    sys.stdout.write(json.dumps(to_jsonable(value), indent=2) + "\n")
    sys.stdout.flush()


def stream_json(rows: Iterable[Any]) -> int:
    """Write `rows` as one JSON array, a row per line as each comes (a long list is never held whole)."""
    count = 0
    sys.stdout.write("[")
    for row in rows:
        sys.stdout.write(("\n" if count == 0 else ",\n") + json.dumps(to_jsonable(row)))
        count += 1
    sys.stdout.write("\n]\n" if count else "]\n")
    sys.stdout.flush()
    return count


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[Any]],
          numeric: Collection[str] = (), footer: Sequence[Any] | None = None) -> Table:
    """A rich table; numeric columns (known headers, or those named in `numeric`) are right-aligned and never
    truncated; a `footer` (totals) row comes last, in bold, below a rule."""
    t = Table(title=title, header_style="bold")
    for col in columns:
        right = col.lower() in NUMERIC_HEADERS or col in numeric
        t.add_column(col, justify="right" if right else "left", no_wrap=right, overflow="fold")
    for row in rows:
        t.add_row(*("" if v is None else _cell(v) for v in row))
    if footer is not None:
        t.add_section()
        t.add_row(*("" if v is None else _cell(v) for v in footer), style="bold")
    return t


def print_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """CSV on stdout: the header, then each row (decimals exact, dates ISO 8601, None empty)."""
    import csv

    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else to_jsonable(v) for v in row])
    sys.stdout.flush()


def _cell(value: Any) -> str:
    """A cell's text, with rich markup escaped: `[id]` in a route is data, not a style tag."""
    text = str(value.value) if isinstance(value, enum.Enum) else str(value)
    return escape(text)


def render(result: Any, as_json: bool, view: Callable[[Any], RenderableType | str]) -> None:
    """The result as JSON on stdout with `--json`, else the rich view of it (a table, or a line)."""
    if as_json:
        print_json(result)
    else:
        stdout().print(view(result))


def error(message: str) -> None:
    """The one-line form of an expected failure, on stderr."""
    sys.stderr.write(f"error: {message}\n")
    sys.stderr.flush()


def note(message: str) -> None:
    """A line of progress or information on stderr (never mixed into stdout's JSON)."""
    stderr().print(message, markup=False, highlight=False)


@contextmanager
def progress(quiet: bool = False, transient: bool = True) -> Iterator[Any]:
    """A rich Progress on stderr, or a null one with the same methods when `quiet`."""
    if quiet:
        yield _NullProgress()
        return
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=stderr(), transient=transient) as bar:
        yield bar


class _NullProgress:
    def add_task(self, *args: Any, **kwargs: Any) -> int:
        return 0

    def update(self, *args: Any, **kwargs: Any) -> None:
        return None

    def advance(self, *args: Any, **kwargs: Any) -> None:
        return None
