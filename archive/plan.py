"""`erpops archive plan`: what would move, how many rows and bytes, what stays and why. Nothing is written."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Connection

from archive.candidates import Limits, Skip, scan
from archive.closure import unindexed_references
from archive.context import Archive
from archive.periods import ClosedThrough, closed_through
from archive.rowhash import digest

EXAMPLES = 5


@dataclass
class FamilyPlan:
    """One family's part of the plan (or why it is skipped as a whole)."""

    family: str
    description: str
    tables: list[str] = field(default_factory=list)
    skipped_reason: str = ""
    until: dt.date | None = None
    residence_years: float = 0.0
    candidates: int = 0
    movable: int = 0
    rows: int = 0
    bytes: int = 0
    table_rows: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # kind -> documents
    examples: list[Skip] = field(default_factory=list)


@dataclass
class Plan:
    today: dt.date
    closed_through: dt.date | None
    closed_source: str
    families: list[FamilyPlan]
    unindexed: list[str] = field(default_factory=list)  # referencing columns without an index (slow deletes)

    @property
    def backlog(self) -> int:
        """Documents past their residence time and movable now: what the backlog alert watches."""
        return sum(f.movable for f in self.families)


def limits_for(ax: Archive, family: str, closed: ClosedThrough, today: dt.date) -> Limits | None:
    until = ax.until(family, today, closed.date)
    if until is None or closed.date is None:
        return None
    years = ax.settings.policy(family).residence_years
    residence_end = today - dt.timedelta(days=round(years * 365.25)) - dt.timedelta(days=1)
    return Limits(until, closed.date, closed.source, residence_end, years)


def make_plan(ax: Archive, families: list[str] | None = None, today: dt.date | None = None) -> Plan:
    """Judge every candidate of every chosen family, in the order a run takes them."""
    from archive import families as registry

    today = today or dt.date.today()
    with ax.source.connect() as conn:
        closed = closed_through(conn, ax.settings.closed_through, today)
        out = []
        for family in registry.FAMILIES.values():
            if families and family.name not in families:
                continue
            fp = FamilyPlan(family.name, family.description, residence_years=ax.settings.policy(family.name)
                            .residence_years)
            if family.name in ax.skipped:
                fp.skipped_reason = ax.skipped[family.name]
            else:
                _plan_family(conn, ax, fp, limits_for(ax, family.name, closed, today))
            out.append(fp)
        unindexed = unindexed_references(conn, ax.closures.values())
    return Plan(today, closed.date, closed.source, out, unindexed)


def _plan_family(conn: Connection, ax: Archive, fp: FamilyPlan, limits: Limits | None) -> None:
    closure = ax.closures[fp.family]
    fp.tables = list(closure.tables)
    if limits is None:
        fp.skipped_reason = "no fiscal period is closed yet"
        return
    fp.until = limits.until
    kinds: Counter[str] = Counter()
    after: object = 0
    anchors: dict[int, tuple[int, str]] = {}  # hash chains: where earlier windows would have left them
    judged: set[object] = set()  # roots that earlier windows took along (`candidates.links`)
    while True:
        window = scan(conn, closure, ax.tables, limits, after, ax.settings.batch_size, anchors=anchors,
                      judged=judged)
        if window.last_key is None:
            break
        after = window.last_key
        fp.candidates += window.scanned
        fp.movable += len(window.movable)
        for skip in window.skipped:
            kinds[skip.kind] += 1
            if len(fp.examples) < EXAMPLES:
                fp.examples.append(skip)
        for name, rows in window.moving.rows.items():
            d = digest(ax.tables[name], rows)
            fp.table_rows[name] = fp.table_rows.get(name, 0) + d.rows
            fp.rows += d.rows
            fp.bytes += d.size
    fp.skipped = dict(kinds)
    if fp.candidates == 0:
        fp.skipped_reason = f"no document closed on or before {limits.until}"
