"""Linked roots (`archive.candidates.links`): found from the foreign keys, and tied so they stay together."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, create_engine

from archive.candidates import Skip, links, settle
from archive.closure import Closure, derive
from archive.families import FAMILIES
from erpcore.models import metadata


def _closure(name: str) -> Closure:
    family = FAMILIES[name]
    return derive(metadata, family, set(metadata.tables), {f.root for f in FAMILIES.values()} - {family.root})


@pytest.fixture
def conn() -> Iterator[Connection]:  # no table is read: every linked root below is inside the window
    with create_engine("sqlite://").connect() as c:
        yield c


def test_the_links_are_derived_from_self_references() -> None:
    assert [e.column for e in links(_closure("journal_entries"))] == ["reversal_of_id"]
    assert [e.column for e in links(_closure("work_orders"))] == ["parent_id"]
    assert links(_closure("sales_orders")) == []


def _entry(key: int, reverses: int | None = None) -> dict[str, object]:
    return {"id": key, "number": f"JE-{key}", "reversal_of_id": reverses}


def test_a_reversal_taken_along_moves_with_its_original(conn: Connection) -> None:
    closure = _closure("journal_entries")
    table = metadata.tables["journal_entry"]
    movable, skipped, judged = settle(conn, closure, table, [_entry(1), _entry(2)], [_entry(9, reverses=2)], {})
    assert movable == [1, 2, 9] and skipped == [] and judged == 3


def test_an_original_that_stays_keeps_its_reversal_and_the_reverse(conn: Connection) -> None:
    closure = _closure("journal_entries")
    table = metadata.tables["journal_entry"]
    held = {2: Skip("JE-2", "open_period", "closing date after the last closed period")}
    movable, skipped, judged = settle(conn, closure, table, [_entry(1), _entry(2)], [_entry(9, reverses=2)], held)
    assert movable == [1] and judged == 2  # the reversal stays silent here: its own window reports it
    assert [s.document for s in skipped] == ["JE-2"]
    held = {9: Skip("JE-9", "residence", "its residence time runs on")}
    movable, skipped, _ = settle(conn, closure, table, [_entry(1), _entry(2)], [_entry(9, reverses=2)], held)
    assert movable == [1]
    assert [(s.document, s.kind, s.reason) for s in skipped] == [("JE-2", "linked", "moves only with JE-9, which stays")]


def test_ties_hold_through_every_level(conn: Connection) -> None:
    closure = _closure("work_orders")
    table = metadata.tables["work_order"]

    def order(key: int, parent: int | None = None) -> dict[str, object]:
        return {"id": key, "number": f"WO-{key}", "parent_id": parent}

    held = {30: Skip("WO-30", "open", "WO-30 is released")}
    movable, skipped, _ = settle(conn, closure, table, [order(1), order(5)], [order(20, 5), order(30, 20)], held)
    assert movable == [1]
    assert {s.document: s.kind for s in skipped} == {"WO-5": "linked"}
