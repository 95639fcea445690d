"""Candidate indexes from a statement's shape, and the one rule for when an index makes another redundant.

Per table: each indexable column alone; the equality columns together; equality columns then one range column;
equality columns then the ORDER BY columns with their direction (sort-aware); join keys with the equality
columns; and each of these covering the statement's other columns (INCLUDE) where that can spare the heap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from advisor.catalog import Catalog, ExistingIndex, Key
from advisor.shape import Shape, TableUse

MAX_KEYS = 4
MAX_INCLUDE = 4
PG_NAME_MAX = 63


@dataclass(frozen=True, order=True)
class Candidate:
    """A btree index that could exist: its table, key columns with directions, and covered columns."""

    table: str
    keys: tuple[Key, ...]
    include: tuple[str, ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(c for c, _ in self.keys)

    @property
    def name(self) -> str:
        table = self.table.rsplit(".", 1)[-1]
        base = "ix_" + "_".join([table, *self.columns]) + ("_incl" if self.include else "")
        if len(base) <= PG_NAME_MAX:
            return base
        digest = hashlib.sha1(self.describe().encode()).hexdigest()[:8]
        return f"{base[:PG_NAME_MAX - 9]}_{digest}"

    def describe(self) -> str:
        keys = ", ".join(_quote(c) + (" DESC" if d else "") for c, d in self.keys)
        include = f" INCLUDE ({', '.join(map(_quote, self.include))})" if self.include else ""
        return f"{self.table} ({keys}){include}"

    def ddl(self, concurrently: bool = True, name: str | None = None) -> str:
        how = "CONCURRENTLY " if concurrently else ""
        return f"CREATE INDEX {how}{_quote(name or self.name)} ON {self.describe()}"

    def hypothetical_ddl(self) -> str:
        return f"CREATE INDEX ON {self.describe()}"

    def covers(self, other: Candidate) -> bool:
        """True when this index answers everything `other` would: its keys start with `other`'s (same
        directions, or all reversed, since a btree scans both ways) and it holds `other`'s covered columns."""
        return self.table == other.table and _covers(self.keys, self.include, other.keys, other.include)


def _quote(name: str) -> str:
    return name if name.isidentifier() and name == name.lower() else '"' + name.replace('"', '""') + '"'


def _covers(keys: tuple[Key, ...], include: tuple[str, ...], other_keys: tuple[Key, ...],
            other_include: tuple[str, ...]) -> bool:
    if len(other_keys) > len(keys):
        return False
    prefix = keys[: len(other_keys)]
    same = prefix == other_keys
    flipped = prefix == tuple((c, not d) for c, d in other_keys)
    held = {c for c, _ in keys} | set(include)
    return (same or flipped) and set(other_include) <= held


def existing_covers(index: ExistingIndex, candidate: Candidate) -> bool:
    """An existing valid, whole-table btree index already answers `candidate`."""
    usable = index.valid and not index.partial and not index.expressions and index.method == "btree"
    return usable and index.table == candidate.table and _covers(index.keys, index.include, candidate.keys,
                                                                 candidate.include)


def existing_serves(index: ExistingIndex, candidate: Candidate, equality: set[str]) -> bool:
    """`existing_covers`, where the candidate's leading equality columns may come in any order (for `a = 1 AND
    b = 2`, an index on (b, a) serves as well as one on (a, b))."""
    if existing_covers(index, candidate):
        return True
    n = 0
    while n < len(candidate.keys) and candidate.keys[n][0] in equality:
        n += 1
    if n < 2 or len(index.keys) < len(candidate.keys) or index.table != candidate.table:
        return False
    head = {c for c, _ in index.keys[:n]} == {c for c, _ in candidate.keys[:n]}
    reordered = Candidate(candidate.table, index.keys[:n] + candidate.keys[n:], candidate.include)
    return head and existing_covers(index, reordered)


def covered_by_any(candidate: Candidate, others: Iterable[Candidate]) -> bool:
    return any(o != candidate and o.covers(candidate) for o in others)


def for_shape(shape: Shape, catalog: Catalog) -> set[Candidate]:
    """Every candidate of one statement that no existing index already covers."""
    found: set[Candidate] = set()
    for use in shape.tables.values():
        info = catalog.tables.get(use.table)
        if info is None or not use.indexable():
            continue
        mine: set[Candidate] = set()
        for keys in _key_sets(use):
            if all(c in info.columns for c, _ in keys):
                mine.add(Candidate(use.table, keys))
                covering = _covering(use, keys, shape.kind, info.columns)
                if covering is not None:
                    mine.add(covering)
        existing = catalog.indexes_on(use.table)
        found |= {c for c in mine if not any(existing_serves(i, c, set(use.eq)) for i in existing)}
    return found


def _key_sets(use: TableUse) -> set[tuple[Key, ...]]:
    eq = [(c, False) for c in use.eq][:3]
    sets: set[tuple[Key, ...]] = {((c, False),) for c in use.indexable()}
    if eq:
        sets.add(tuple(eq))
        if len(eq) == 2:
            sets.add((eq[1], eq[0]))
    for column in use.ranges:
        if column not in use.eq:
            sets.add((*eq, (column, False)))
            break
    order = _order(use)
    if order:
        sets.add((*eq, *order))
    for join in use.joins:
        if join not in use.eq and eq:
            sets.add(((join, False), *eq))
            sets.add((*eq, (join, False)))
    return {k[:MAX_KEYS] for k in sets if k}


def _order(use: TableUse) -> tuple[Key, ...]:
    """ORDER BY columns not pinned by equality, turned so the first is ascending (a btree scans backwards)."""
    order = [(c, d) for c, d in use.order if c not in use.eq]
    if order and order[0][1]:
        order = [(c, not d) for c, d in order]
    return tuple(order)


def _covering(use: TableUse, keys: tuple[Key, ...], kind: str, columns: set[str]) -> Candidate | None:
    if kind != "select" or use.star:
        return None
    rest = sorted(c for c in use.columns - {c for c, _ in keys} if c in columns)
    if not rest or len(rest) > MAX_INCLUDE:
        return None
    return Candidate(use.table, keys, tuple(rest))
