"""`archive.rowhash` in PostgreSQL: the same canonical line and the same 128-bit sum, computed by the server.

Each column is rendered as `rowhash.canonical` renders the value the driver returns (integers and text as
they are, NUMERIC at the column's scale, dates and UTC timestamps in ISO form with microseconds only when
there are some, booleans as t/f, NULL as `\\N`); the line's SHA-256 is split into two signed 64-bit
halves that the server sums. The sum of the unsigned 128-bit numbers modulo 2**128 then follows from
those sums alone: the high half's sign only moves bits past 2**128, and each negative low half is short
by exactly 2**64. A table with a column type not rendered here (JSON) has no canonical SQL hash: with
`server_hash = "canonical"` its batches take the Python path.

The canonical line costs the server several microseconds per row; `RECORD` digests (the sum of
`hash_record_extended` of each row, see `archive.rowhash`) cost a fraction of that and are what server-side
batches record by default (JSON columns hashed as jsonb, so they move in the server too). Python cannot compute them, so a batch's hash text names its kind and
`archive.verify` runs the matching function.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Integer, Numeric, String, Table

from archive.rowhash import MOD, MODULI, RECORD, Digest

HALF = 1 << 64
NULL = "'\\N'"
SEPARATOR = "E'\\x1f'"


class Unsupported(ValueError):
    """A column whose values this module cannot render exactly as `rowhash.canonical` does."""


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column(table: Table, name: str, alias: str) -> str:
    column = table.c[name]
    ref = f"{alias}.{quote_ident(name)}"
    kind = column.type
    if isinstance(kind, Boolean):
        return f"CASE WHEN {ref} IS NULL THEN {NULL} WHEN {ref} THEN 't' ELSE 'f' END"
    if isinstance(kind, DateTime):
        utc = f"({ref} AT TIME ZONE 'UTC')" if kind.timezone else ref
        return (f"COALESCE(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN date_trunc('second', {ref}) "
                f"= {ref} THEN '' ELSE to_char({utc}, '.US') END, {NULL})")
    if isinstance(kind, Date):
        return f"COALESCE(to_char({ref}, 'YYYY-MM-DD'), {NULL})"
    if isinstance(kind, Numeric) and not isinstance(kind, Integer):
        if kind.scale is None or not 0 <= kind.scale <= 6:  # str(Decimal) turns to exponents past 6 places
            raise Unsupported(f"{table.name}.{name}: NUMERIC without a scale of 0 to 6")
        return f"COALESCE(round({ref}, {kind.scale})::text, {NULL})"
    if isinstance(kind, Integer | BigInteger | String):
        return f"COALESCE({ref}::text, {NULL})"
    raise Unsupported(f"{table.name}.{name}: {kind} has no SQL rendering of its canonical form")


def _record_column(table: Table, name: str, alias: str) -> str:
    """A column as `hash_record_extended` can hash it: JSON (which has no hash function) as jsonb."""
    ref = f"{alias}.{quote_ident(name)}"
    return f"{ref}::jsonb" if isinstance(table.c[name].type, JSON) else ref


def line_sql(table: Table, alias: str) -> str:
    """The SQL expression of one row's canonical line (`rowhash.row_line`), columns read from `alias`."""
    parts = []
    for i, column in enumerate(table.columns):
        label = ("" if i == 0 else f"{SEPARATOR} || ") + f"'{column.name}='"
        parts.append(f"{label} || {_column(table, column.name, alias)}")
    head = f"'{table.name}|'"
    return " || ".join([head, *parts])


def supported(table: Table, kind: str = "") -> str:
    """Why `table` has no SQL hash of `kind` ('' when it has one: a `RECORD` hash covers every column)."""
    if kind == RECORD:
        return ""
    try:
        line_sql(table, "r")
    except Unsupported as exc:
        return str(exc)
    return ""


def aggregate_sql(table: Table, source: str, alias: str = "r", kind: str = "") -> str:
    """A query over `source` (a FROM item named `alias`) returning the count, hash parts and size of its rows,
    as `kind` of digest (`rowhash.RECORD`: the sum of `hash_record_extended` over the table's columns)."""
    if kind == RECORD:
        row = ", ".join(_record_column(table, c.name, alias) for c in table.columns)
        return f"SELECT count(*), 0, sum(hash_record_extended(ROW({row}), 0)), 0, 0 FROM {source}"
    halves = ", ".join(f"('x' || encode(substr(d, {start}, 8), 'hex'))::bit(64)::bigint AS {name}"
                       for start, name in ((1, "hi"), (9, "lo")))
    return (f"SELECT count(*), sum(hi), sum(lo), count(*) FILTER (WHERE lo < 0), sum(size) FROM ("
            f"SELECT {halves}, size FROM (SELECT sha256(convert_to(line, 'UTF8')) AS d, char_length(line) AS size "
            f"FROM (SELECT {line_sql(table, alias)} AS line FROM {source} OFFSET 0) lines OFFSET 0) digests) halves")


def to_digest(row: tuple[Any, ...] | Mapping[int, Any], kind: str = "") -> Digest:
    """The `Digest` of the aggregate's one row: count, sum of high halves, of low halves, negative lows, size."""
    count, hi, lo, negative_lo, size = (row[i] for i in range(5))
    if not count:
        return Digest()
    if kind == RECORD:
        return Digest(int(count), int(lo) % MODULI[RECORD], 0, RECORD)
    value = (int(hi) * HALF + int(lo) + int(negative_lo) * HALF) % MOD
    return Digest(int(count), value, int(size or 0))
