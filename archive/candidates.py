"""Keyset windows of candidate documents, each judged: movable, or skipped with the reason.

A candidate is a root row dated on or before the family's `until` date. It moves only when every row of
its closure is closed, its closing date (the latest document date in the closure) is in a closed period
and past the residence time, no row outside the moving set references it, and (for ledger rows) the
document it was posted for has already left production.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Connection, DateTime, Table, func, select

from archive.anchors import out_of_line
from archive.closure import (
    Closure,
    ClosureRows,
    Edge,
    among,
    closing_columns,
    collect,
    document_date,
    inbound_blockers,
    pk_column,
)
from archive.families import CARRY_FORWARD_SOURCE


@dataclass(frozen=True)
class Skip:
    """A candidate that stays in production, and why."""

    document: str
    # open | open_period | residence | referenced | source_in_production | highest_id | chain_order | linked
    kind: str
    reason: str


@dataclass(frozen=True)
class Limits:
    """The dates a family is judged by."""

    until: dt.date  # last closing date that may move
    closed_through: dt.date
    closed_source: str
    residence_end: dt.date
    residence_years: float


@dataclass
class Window:
    last_key: Any | None  # None: the family has no candidates left after the previous key
    scanned: int = 0
    movable: list[Any] = field(default_factory=list)
    skipped: list[Skip] = field(default_factory=list)
    moving: ClosureRows = field(default_factory=ClosureRows)


def as_date(value: Any) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def root_query(closure: Closure, root: Table, until: dt.date, after: Any, limit: int) -> Any:
    pk = root.c[pk_column(root)]
    return select(root).where(pk > after, *candidate_filter(closure, root, until)).order_by(pk).limit(limit)


def candidate_filter(closure: Closure, root: Table, until: dt.date) -> list[ColumnElement[bool]]:
    """What makes a root row a candidate, whatever its key: dated on or before `until`, not a carry-forward."""
    out = []
    column = document_date(closure.family, root)
    if column is not None:
        if isinstance(root.c[column].type, DateTime):
            out.append(root.c[column] < dt.datetime.combine(until + dt.timedelta(days=1), dt.time(), dt.UTC))
        else:
            out.append(root.c[column] <= until)
    if closure.family.source_link is not None:
        out.append(root.c[closure.family.source_link[0]] != CARRY_FORWARD_SOURCE)
    return out


LINK_DEPTH = 8  # levels of linked roots one window takes along (a work order's sub-orders, theirs...)


def links(closure: Closure) -> list[Edge]:
    """The family's roots that reference another of its roots (a reversal entry, its original): such a pair
    moves in one batch or stays together, whatever window boundary falls between them."""
    return [e for e in closure.inbound if e.child == closure.root and e.parent == closure.root]


def pull_linked(conn: Connection, closure: Closure, root: Table, limits: Limits, roots: list[dict[str, Any]],
                lock: bool, exclude: Collection[Any] = ()) -> list[dict[str, Any]]:
    """The candidates outside a window that reference one of its roots (`links`), and those referencing them
    in turn, read like its roots (the same columns, locked the same way): they join the window, so that its
    roots are not held back by them."""
    pk = pk_column(root)
    have = {r[pk] for r in roots}
    columns = [root.c[c] for c in roots[0]] if roots else []
    out: dict[Any, dict[str, Any]] = {}
    wave = sorted(have)
    for _ in range(LINK_DEPTH):
        found = []
        for edge in links(closure):
            for condition in among(conn, root.c[edge.column], wave):
                stmt = select(*columns).where(condition, *candidate_filter(closure, root, limits.until))
                if lock and conn.dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                for row in conn.execute(stmt):
                    key = row._mapping[pk]
                    if key not in have and key not in out and key not in exclude:
                        out[key] = dict(row._mapping)
                        found.append(key)
        if not found:
            break
        wave = sorted(found)
    return [out[k] for k in sorted(out)]


def settle(conn: Connection, closure: Closure, root: Table, roots: list[dict[str, Any]],
           pulled: list[dict[str, Any]], skips: dict[Any, Skip]) -> tuple[list[Any], list[Skip], int]:
    """Tie linked roots (`links`) together: a root whose linked root stays (in the window, or outside it and
    still in production) stays too. Returns the movable keys, the skips of the window's own roots (a pulled
    root that stays is judged again in its own window) and how many roots were judged for good."""
    pk = pk_column(root)
    everyone = roots + pulled
    labels = {r[pk]: label(r, closure.root, pk) for r in everyone}
    inside = set(labels)
    pairs: list[tuple[Any, Any]] = []
    outside: dict[Any, list[Any]] = defaultdict(list)
    for edge in links(closure):
        for r in everyone:
            ref = r.get(edge.column)
            if ref is None:
                continue
            if ref in inside:
                pairs.append((r[pk], ref))
            else:
                outside[ref].append(r[pk])
    for condition in among(conn, root.c[pk], sorted(outside)):
        for (ref,) in conn.execute(select(root.c[pk]).where(condition)):
            for key in outside[ref]:
                skips.setdefault(key, Skip(labels[key], "linked", f"moves only with {closure.root} {ref}, "
                                                                  "which is still in production"))
    grew = True
    while grew:
        grew = False
        for a, b in pairs:
            for held, by in ((a, b), (b, a)):
                if by in skips and held not in skips:
                    skips[held] = Skip(labels[held], "linked", f"moves only with {labels[by]}, which stays")
                    grew = True
    movable = [r[pk] for r in everyone if r[pk] not in skips]
    own = {r[pk] for r in roots}
    moved_ahead = sum(1 for r in pulled if r[pk] not in skips)
    return movable, [s for k, s in skips.items() if k in own], len(roots) + moved_ahead


def scan(conn: Connection, closure: Closure, tables: Mapping[str, Table], limits: Limits, after: Any,
         limit: int, lock: bool = False, anchors: dict[int, tuple[int, str]] | None = None,
         judged: set[Any] | None = None) -> Window:
    """Read the next window of candidates after key `after`, with the candidates linked to them (`links`),
    and judge each one (`anchors`: for a dry run over several windows of a hash-chained family, the chain
    anchors its earlier windows would have left; `judged`: for a dry run, the keys earlier windows moved
    ahead of their turn, which this one skips and adds to)."""
    root = tables[closure.root]
    stmt = root_query(closure, root, limits.until, after, limit)
    if lock and conn.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    pk = pk_column(root)
    judged = set() if judged is None else judged
    scanned = [dict(r._mapping) for r in conn.execute(stmt)]
    if not scanned:
        return Window(last_key=None)
    roots = [r for r in scanned if r[pk] not in judged]
    pulled = pull_linked(conn, closure, root, limits, roots, lock, exclude=judged)
    found = collect(conn, closure, tables, roots + pulled, lock=lock)
    skips = _judge(conn, closure, tables, limits, found, roots + pulled, pk)
    if closure.family.hash_chained:
        labels = {r[pk]: label(r, closure.root, pk) for r in roots}
        for root_id, why in out_of_line(conn, roots, skips, anchors).items():
            skips.setdefault(root_id, Skip(labels[root_id], "chain_order", why))
    movable, skipped, count = settle(conn, closure, root, roots, pulled, skips)
    ahead = {r[pk] for r in pulled}
    judged.update(k for k in movable if k in ahead)
    return Window(scanned[-1][pk], count, movable, skipped, found.for_roots(movable))


def label(row: Mapping[str, Any], table: str, pk: str) -> str:
    return str(row.get("number") or f"{table} {row[pk]}")


@dataclass
class Facts:
    """What a window's closures show, per root: the first row still open, the closing date, the first row
    outside the moving set that references the closure, and (SQLite) a row holding its table's highest id."""

    open: dict[Any, str] = field(default_factory=dict)
    closing: dict[Any, dt.date] = field(default_factory=dict)
    referenced: dict[Any, str] = field(default_factory=dict)
    highest: dict[Any, str] = field(default_factory=dict)

    def close_on(self, root_id: Any, day: dt.date | None) -> None:
        if day is not None and day > self.closing.get(root_id, dt.date.min):
            self.closing[root_id] = day


def decide(facts: Facts, labels: Mapping[Any, str], limits: Limits, sources: Mapping[Any, str]) -> dict[Any, Skip]:
    """The roots that stay, each with the first reason in the order: open, period, residence, highest id,
    referenced, source document still in production."""
    skips: dict[Any, Skip] = {}

    def skip(root_id: Any, kind: str, reason: str) -> None:
        if root_id not in skips:
            skips[root_id] = Skip(labels[root_id], kind, reason)

    for root_id, reason in facts.open.items():
        skip(root_id, "open", reason)
    for root_id, day in facts.closing.items():
        if day > limits.closed_through:
            skip(root_id, "open_period", f"closing date {day} is after the last closed period "
                                         f"({limits.closed_through}, {limits.closed_source})")
        elif day > limits.residence_end:
            skip(root_id, "residence", f"closed on {day}: its residence time of {limits.residence_years:g} "
                                       f"years runs to {limits.residence_end}")
    for kind, reasons in (("highest_id", facts.highest), ("referenced", facts.referenced),
                          ("source_in_production", sources)):
        for root_id, reason in reasons.items():
            skip(root_id, kind, reason)
    return skips


def _judge(conn: Connection, closure: Closure, tables: Mapping[str, Table], limits: Limits, found: ClosureRows,
           roots: list[dict[str, Any]], pk: str) -> dict[Any, Skip]:
    facts = Facts()
    for name in closure.tables:
        table_pk, closed = found.pks[name], closure.family.closed.get(name)
        columns = closing_columns(closure.family, tables[name])
        for row in found.rows[name]:
            root_id = found.root_of[name][row[table_pk]]
            if closed is not None and row.get("status") not in closed and root_id not in facts.open:
                facts.open[root_id] = f"{label(row, name, table_pk)} is {row.get('status')}"
            for column in columns:
                facts.close_on(root_id, as_date(row.get(column)))
    facts.highest = _highest_ids(conn, closure, tables, found)
    facts.referenced = inbound_blockers(conn, closure, tables, found)
    labels = {r[pk]: label(r, closure.root, pk) for r in roots}
    return decide(facts, labels, limits, sources_in_production(conn, closure, tables, roots, pk))


def _highest_ids(conn: Connection, closure: Closure, tables: Mapping[str, Table], found: ClosureRows
                 ) -> dict[Any, str]:
    """SQLite gives a new row the highest id + 1: a row holding its table's highest id stays, or its id would
    come back for a new row and collide with the archived one."""
    if conn.dialect.name != "sqlite":
        return {}
    out: dict[Any, str] = {}
    for name in closure.tables:
        table = tables[name]
        top = conn.execute(select(func.max(table.c[found.pks[name]]))).scalar()
        if top in found.root_of.get(name, {}):
            out[found.root_of[name][top]] = f"{name} {top} is its table's highest id (SQLite would reuse it)"
    return out


def sources_in_production(conn: Connection, closure: Closure, tables: Mapping[str, Table],
                           roots: list[dict[str, Any]], pk: str) -> dict[Any, str]:
    """Ledger rows whose document (named by table and id) is still in production stay with it."""
    if closure.family.source_link is None:
        return {}
    type_col, id_col = closure.family.source_link
    wanted: dict[str, dict[Any, list[Any]]] = defaultdict(lambda: defaultdict(list))
    for r in roots:
        if r[type_col] in tables:
            wanted[r[type_col]][r[id_col]].append(r[pk])
    out: dict[Any, str] = {}
    for name, by_id in wanted.items():
        table = tables[name]
        key = table.c[pk_column(table)]
        for condition in among(conn, key, list(by_id)):
            for (found,) in conn.execute(select(key).where(condition)):
                for root_id in by_id[found]:
                    out[root_id] = f"its source document {name} {found} is still in production"
    return out
