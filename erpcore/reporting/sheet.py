"""A report's columns and its rows as cells: what the CLI renders as a table or CSV (JSON is the report itself).

A report's result is a dataclass of typed rows and totals (that is what the API and `--json` return); its
`sheet()` flattens it for people and spreadsheets, with a column spec saying what each cell holds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Kind(StrEnum):
    TEXT = "text"
    DATE = "date"
    MONEY = "money"
    QUANTITY = "quantity"
    COUNT = "count"


NUMERIC = frozenset({Kind.MONEY, Kind.QUANTITY, Kind.COUNT})


@dataclass(frozen=True)
class Column:
    """One column: the row attribute it shows (`key`, also the CSV header), its header for people, its kind."""

    key: str
    header: str
    kind: Kind = Kind.TEXT

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC


@dataclass(frozen=True)
class Sheet:
    """A report as cells: a title, the columns, one tuple per row, and the totals row (or None)."""

    title: str
    columns: tuple[Column, ...]
    rows: list[tuple[object, ...]]
    total: tuple[object, ...] | None = None


class Tabular(Protocol):
    """What every report result offers besides its typed fields: itself as a sheet."""

    def sheet(self) -> Sheet: ...


def cells(row: object, columns: Sequence[Column]) -> tuple[object, ...]:
    """The row's attributes named by the columns, in their order."""
    return tuple(getattr(row, c.key) for c in columns)


def total_row(columns: Sequence[Column], values: Mapping[str, object], label: str = "total") -> tuple[object, ...]:
    """The totals row: `values` under their columns, `label` in the first column, blanks elsewhere."""
    return tuple(values.get(c.key, label if i == 0 else None) for i, c in enumerate(columns))


def sheet(title: str, columns: Iterable[Column], rows: Iterable[object],
          totals: Mapping[str, object] | None = None) -> Sheet:
    """A sheet of dataclass rows whose attributes the columns name."""
    chosen = tuple(columns)
    return Sheet(title, chosen, [cells(r, chosen) for r in rows],
                 None if totals is None else total_row(chosen, totals))
