"""Index health: unused indexes, exact and prefix duplicates, invalid indexes, each with its reason.

Unused means no scan since the statistics were last reset (the observation window); primary keys, unique and
exclusion constraints and indexes that support a foreign key (their leading columns are its columns) are never
called unused: they do work no scan counter shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from advisor.catalog import Catalog, ExistingIndex


@dataclass
class Finding:
    kind: str  # unused | duplicate | prefix | invalid
    index: str
    table: str
    columns: list[str]
    size_bytes: int
    scans: int
    drop: str
    reason: str
    kept: str | None = None  # the index that makes this one redundant


@dataclass
class HealthReport:
    window_since: str | None
    indexes: int
    findings: list[Finding]
    kept: list[tuple[str, str]] = field(default_factory=list)  # (index, why it is never called unused)
    reason: str = ""

    def of_kind(self, kind: str) -> list[Finding]:
        return [f for f in self.findings if f.kind == kind]

    def to_json(self) -> dict[str, Any]:
        return {"window_since": self.window_since, "indexes": self.indexes, "reason": self.reason,
                "unused": self.of_kind("unused"), "duplicates": self.of_kind("duplicate") + self.of_kind("prefix"),
                "invalid": self.of_kind("invalid"), "kept": [{"index": i, "why": w} for i, w in self.kept]}


def report(catalog: Catalog) -> HealthReport:
    """Every finding over the catalog's indexes."""
    findings: list[Finding] = []
    kept: list[tuple[str, str]] = []
    for index in catalog.indexes:
        if not index.valid:
            findings.append(_finding("invalid", index, "invalid (a failed CREATE INDEX CONCURRENTLY?): it is "
                                                       "maintained on every write and never used"))
    findings += duplicates(catalog)
    redundant = {f.index for f in findings}
    for index in catalog.indexes:
        why = protected(index, catalog)
        if why:
            kept.append((index.name, why))
        elif index.valid and index.scans == 0 and index.name not in redundant:
            since = catalog.stats_reset or "the statistics were last reset"
            findings.append(_finding("unused", index, f"no scan since {since}; {_size(index.size_bytes)} kept "
                                                       f"up on every write to {index.table}"))
    counts = {k: len([f for f in findings if f.kind == k]) for k in ("unused", "duplicate", "prefix", "invalid")}
    reason = (f"{counts['unused']} unused, {counts['duplicate']} duplicate, {counts['prefix']} prefix-covered and "
              f"{counts['invalid']} invalid index(es) of {len(catalog.indexes)}; "
              f"{sum(f.size_bytes for f in findings) / 2**20:.1f} MB could be dropped")
    return HealthReport(catalog.stats_reset, len(catalog.indexes), findings, kept, reason)


def protected(index: ExistingIndex, catalog: Catalog) -> str:
    """Why an index is never reported unused, or ''."""
    if index.primary:
        return "primary key"
    if index.unique or index.constraint:
        return "enforces uniqueness"
    table = catalog.tables.get(index.table)
    for fk in table.foreign_keys if table else []:
        if len(index.columns) >= len(fk) and set(index.columns[: len(fk)]) == set(fk):
            return f"supports the foreign key ({', '.join(fk)})"
    return ""


def duplicates(catalog: Catalog) -> list[Finding]:
    """Exact duplicates (same definition but the name) and indexes whose keys lead another's."""
    found: list[Finding] = []
    by_table: dict[str, list[ExistingIndex]] = {}
    for index in catalog.indexes:
        if index.valid:
            by_table.setdefault(index.table, []).append(index)
    for indexes in by_table.values():
        for index in indexes:
            twin = _covering_twin(index, indexes, {f.index for f in found})
            if twin is not None:
                kind, other = twin
                what = "the same index as" if kind == "duplicate" else "a prefix of"
                found.append(_finding(kind, index, f"{what} {other.name} ({', '.join(other.columns)})", other.name))
    return found


def _covering_twin(index: ExistingIndex, peers: list[ExistingIndex],
                   dropped: set[str]) -> tuple[str, ExistingIndex] | None:
    if index.primary or index.constraint:
        return None
    others = [o for o in peers if o.name != index.name and o.name not in dropped]
    for other in others:
        if _body(other) == _body(index) and (other.unique or other.constraint or other.name < index.name):
            return "duplicate", other
    for other in others:
        if not index.unique and _prefix_of(index, other):
            return "prefix", other
    return None


def _body(index: ExistingIndex) -> str:
    """The definition after `ON`: table, method, keys, INCLUDE and predicate, without the name."""
    return index.definition.split(" ON ", 1)[-1]


def _prefix_of(short: ExistingIndex, long: ExistingIndex) -> bool:
    plain = not (short.partial or long.partial or short.expressions or long.expressions)
    if not plain or short.method != "btree" or long.method != "btree" or len(short.keys) >= len(long.keys):
        return False
    head = long.keys[: len(short.keys)]
    aligned = head == short.keys or head == tuple((c, not d) for c, d in short.keys)
    return aligned and set(short.include) <= set(long.columns) | set(long.include)


def _finding(kind: str, index: ExistingIndex, reason: str, kept: str | None = None) -> Finding:
    return Finding(kind, index.name, index.table, list(index.columns), index.size_bytes, index.scans,
                   f"DROP INDEX CONCURRENTLY {_qualified(index)};", reason, kept)


def _qualified(index: ExistingIndex) -> str:
    schema = index.table.rsplit(".", 1)[0] + "." if "." in index.table else ""
    return f'{schema}"{index.name}"' if not index.name.islower() else f"{schema}{index.name}"


def _size(size: int) -> str:
    return f"{size / 2**20:.1f} MB" if size >= 2**20 else f"{size / 1024:.0f} kB"
