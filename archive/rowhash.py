"""Order-independent row hashes: the same rows hash the same on either engine, in any order.

Each row becomes one canonical line (table, then column=value with Decimals at the column's scale,
datetimes in UTC, NULL as a marker) whose SHA-256 is read as a 128-bit number; a set of rows hashes to
the sum of its rows' numbers modulo 2**128, so a lost, extra or changed row changes the sum, and a
duplicated row is counted twice rather than cancelled out as XOR would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Numeric, Table

MOD = 1 << 128


def canonical(value: Any, scale: int | None = None) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, Decimal | float):
        number = Decimal(repr(value)) if isinstance(value, float) else value
        return str(number.quantize(Decimal(1).scaleb(-scale))) if scale is not None else str(number.normalize())
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return str(value.isoformat())
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict | list):
        return str(json.dumps(value, sort_keys=True, separators=(",", ":")))
    return str(value)


def scales(table: Table) -> dict[str, int | None]:
    return {c.name: (c.type.scale if isinstance(c.type, Numeric) else None) for c in table.columns}


def row_line(table: Table, row: Mapping[str, Any], column_scales: Mapping[str, int | None]) -> str:
    return table.name + "|" + "\x1f".join(f"{name}={canonical(row[name], scale)}"
                                          for name, scale in column_scales.items())


def _formatter(scale: int | None) -> Callable[[Any], str]:
    """`canonical` for one column, with the common types (int, str, exact Decimal) on a short path."""
    quantum = Decimal(1).scaleb(-scale) if scale is not None else None

    def fmt(value: Any) -> str:
        kind = type(value)
        if kind is int or kind is str:
            return str(value)
        if kind is Decimal and quantum is not None:
            return str(value.quantize(quantum))
        return canonical(value, scale)

    return fmt


def row_number(line: str) -> int:
    return int.from_bytes(hashlib.sha256(line.encode()).digest()[:16], "big")


# The other kind of hash a batch may carry: the sum modulo 2**64 of PostgreSQL's `hash_record_extended` of
# each row, computed by the server (`archive.sqlhash`) for batches that never leave it. Its text says so
# (`record:<16 hex digits>`), so whoever re-verifies a batch knows which function to run.
RECORD = "record"
MODULI = {"": MOD, RECORD: 1 << 64}


@dataclass(frozen=True)
class Digest:
    """Rows counted and hashed; digests of one kind add up like the sets they stand for."""

    rows: int = 0
    value: int = 0
    size: int = 0  # bytes of the canonical lines: the plan's estimate of what moves (0 for RECORD)
    kind: str = ""  # "": the canonical lines' SHA-256 (this module); RECORD: PostgreSQL's record hash

    def __add__(self, other: Digest) -> Digest:
        if not (self.rows or self.value):
            return other
        if not (other.rows or other.value):
            return self
        if self.kind != other.kind:
            raise ValueError(f"cannot add a {self.kind or 'canonical'} digest to a {other.kind or 'canonical'} one")
        return Digest(self.rows + other.rows, (self.value + other.value) % MODULI[self.kind], self.size + other.size,
                      self.kind)

    @property
    def hex(self) -> str:
        return f"{RECORD}:{self.value:016x}" if self.kind == RECORD else f"{self.value:032x}"


def kind_of(recorded: str) -> str:
    """The kind of digest a recorded hash text was made by."""
    return RECORD if recorded.startswith(RECORD + ":") else ""


def digest(table: Table, rows: Iterable[Mapping[str, Any]]) -> Digest:
    """Count, hash and size of `rows` as rows of `table` (extra keys, such as the batch column, ignored)."""
    columns = [(name, name + "=", _formatter(scale)) for name, scale in scales(table).items()]
    prefix = table.name + "|"
    sha = hashlib.sha256
    total, count, size = 0, 0, 0
    for row in rows:
        line = prefix + "\x1f".join(label + fmt(row[name]) for name, label, fmt in columns)
        total += int.from_bytes(sha(line.encode()).digest()[:16], "big")
        count += 1
        size += len(line)
    return Digest(count, total % MOD, size)


def combine(digests: Iterable[Digest]) -> Digest:
    out = Digest()
    for d in digests:
        out = out + d
    return out
