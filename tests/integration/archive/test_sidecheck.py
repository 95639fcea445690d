"""The archive-side `erpops check`, and linked roots: a reversal entry and the entry it reverses move in one
batch or stay together, whatever window boundary falls between them, on every batch path."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pytest
from sqlalchemy import text

from archive.plan import make_plan
from archive.restore import Selection, restore
from archive.runner import run_archive
from archive.sidecheck import check_archive_side
from tests.integration.archive.conftest import TODAY, Pair

# besides a pair's default path (Python on SQLite, one server call per batch on PostgreSQL), PostgreSQL's others
OTHER_PATHS = {"python": {"server_side": False}, "statements": {"server_function": False}}


def _split_reversals(pair: Pair) -> list[int]:
    """Originals in production whose reversal entry is in the archive."""
    with pair.dest.connect() as conn:
        originals = conn.execute(text("SELECT reversal_of_id FROM journal_entry WHERE reversal_of_id IS NOT NULL"))
        wanted = [int(o) for (o,) in originals]
    with pair.source.connect() as conn:
        return [o for o in wanted if conn.execute(text("SELECT 1 FROM journal_entry WHERE id = :i"), {"i": o}).first()]


UNTIL = dt.date(2023, 6, 30)  # TODAY less the three years of residence: the last day a journal entry may move on


def _documents_out(pair: Pair, **path: object) -> None:
    """The documents leave first (their entries stay while they are in production), in big batches."""
    run_archive(pair.archive(batch_size=500, batch_seconds=0, **path), today=TODAY,
                families=["sales_orders", "purchase_orders"])


def _window_ending_inside_a_pair(pair: Pair) -> tuple[int, int, int]:
    """A window size whose first window ends with an original entry, its reversal in the next one (the
    windows are the candidates in key order): the original, its reversal, the size."""
    with pair.source.connect() as conn:
        original, reversal = conn.execute(text(
            "SELECT o.id, r.id FROM journal_entry r JOIN journal_entry o ON o.id = r.reversal_of_id "
            "WHERE o.entry_date <= :until ORDER BY o.id"), {"until": UNTIL}).first() or (0, 0)
        size = conn.execute(text("SELECT count(*) FROM journal_entry WHERE id <= :o AND entry_date <= :until"),
                            {"o": original, "until": UNTIL}).scalar_one()
    assert original and size > 0, "the seed has a reversal within the archive's reach"
    return original, reversal, int(size)


def _pairs_in(engine: object) -> int:
    with engine.connect() as conn:  # type: ignore[attr-defined]
        return int(conn.execute(text("SELECT count(*) FROM journal_entry r JOIN journal_entry o "
                                     "ON o.id = r.reversal_of_id")).scalar_one())


def test_small_windows_never_split_a_reversal_from_its_original(pair: Pair) -> None:
    _never_split(pair, {})


@pytest.mark.pg
@pytest.mark.parametrize("path", list(OTHER_PATHS))
def test_no_postgresql_batch_path_splits_a_reversal_from_its_original(pair: Pair, path: str) -> None:
    _never_split(pair, OTHER_PATHS[path])


def _never_split(pair: Pair, path: Mapping[str, object]) -> None:
    before = _pairs_in(pair.source)
    assert before > 0, "the seed has reversal entries"
    _documents_out(pair, **path)
    original, reversal, size = _window_ending_inside_a_pair(pair)
    result = run_archive(pair.archive(batch_size=size, batch_seconds=0, **path), today=TODAY,
                         families=["journal_entries"])
    assert result.check_ok and result.family_rows.get("journal_entries", 0) > 0
    assert not _split_reversals(pair)
    with pair.dest.connect() as conn:
        moved = {i for (i,) in conn.execute(text("SELECT id FROM journal_entry WHERE id IN (:o, :r)"),
                                            {"o": original, "r": reversal})}
    assert moved == {original, reversal}, "the pair two windows would have split moved together"
    assert _pairs_in(pair.dest) + _pairs_in(pair.source) == before
    side = check_archive_side(pair.archive())
    assert "reversals_net_to_zero" in side.checked
    assert side.ok, side.violations


def test_the_plan_counts_a_pair_taken_along_once(pair: Pair) -> None:
    """A dry run over small windows counts each entry once (a reversal taken along with its original is not
    counted again in its own window) and moves what the run then moves."""
    _documents_out(pair)
    ax = pair.archive(batch_size=_window_ending_inside_a_pair(pair)[2], batch_seconds=0, server_side=False)
    planned = {f.family: f for f in make_plan(ax, ["journal_entries"], today=TODAY).families}["journal_entries"]
    assert planned.candidates == planned.movable + sum(planned.skipped.values())
    result = run_archive(ax, today=TODAY, families=["journal_entries"])
    assert result.documents == planned.movable > 0
    assert result.family_rows["journal_entries"] == planned.rows


@pytest.mark.parametrize("named", ["original", "reversal"])
def test_restoring_one_entry_of_a_pair_by_number_brings_the_other_back(pair: Pair, named: str) -> None:
    """`erpops archive restore JE-...` names one entry of a pair; the other goes back with it."""
    _documents_out(pair)
    ax = pair.archive(batch_size=_window_ending_inside_a_pair(pair)[2], batch_seconds=0)
    run_archive(ax, today=TODAY, families=["journal_entries"])
    with pair.dest.connect() as conn:
        found = conn.execute(text(f"SELECT o.id, r.id, {named[0]}.number FROM journal_entry r JOIN journal_entry o "
                                  "ON o.id = r.reversal_of_id ORDER BY o.id")).first()
    assert found is not None, "an archived pair"
    original, reversal, number = found
    back = restore(ax, Selection(family="journal_entries", document=number))
    assert back.postings == 2
    assert _split_reversals(pair) == []
    with pair.source.connect() as conn:
        present = {i for (i,) in conn.execute(text("SELECT id FROM journal_entry WHERE id IN (:a, :b)"),
                                              {"a": original, "b": reversal})}
    assert present == {original, reversal}
    assert check_archive_side(pair.archive()).ok
