"""Verify finds what is wrong: a changed archive row, an orphan, a row in both places; one writer at a time;
a run bounded by time; a business lock is skipped or waited out, never queued behind."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select, text

from archive.runner import Bounds, run_archive
from archive.runs import run_lock
from archive.store import BATCH_COLUMN
from archive.verify import status, verify
from erpcore.exceptions import Conflict
from tests.integration.archive.conftest import TODAY, Pair

PURCHASING = ["purchase_orders"]


def test_a_changed_archive_row_fails_its_batch(pair: Pair) -> None:
    ax = pair.archive()
    run_archive(ax, families=PURCHASING, today=TODAY)
    assert verify(ax).ok
    with pair.dest.begin() as conn:
        batch = conn.execute(text("UPDATE purchase_order SET net_amount = net_amount + 1 WHERE id = "
                                  "(SELECT MIN(id) FROM purchase_order)")).rowcount
    assert batch == 1
    result = verify(ax)
    bad = [b for b in result.batches if not b.ok]
    assert len(bad) == 1 and "purchase_order:" in bad[0].reason and "manifest" in bad[0].reason


def test_orphans_and_duplicates_are_reported(pair: Pair) -> None:
    ax = pair.archive()
    run_archive(ax, families=PURCHASING, today=TODAY)
    table = ax.dest_tables["purchase_order"]
    with pair.dest.begin() as conn:
        row = dict(conn.execute(select(table).order_by(table.c.id).limit(1)).one()._mapping)
        conn.execute(table.insert(), {**row, "id": row["id"] + 10_000_000, "number": "PO-ORPHAN",
                                      BATCH_COLUMN: 999_999})
    with pair.source.begin() as conn:  # the archived order put back by hand, without the archive knowing
        conn.execute(ax.tables["purchase_order"].insert(), {k: v for k, v in row.items() if k != BATCH_COLUMN})
    result = verify(ax, check=False)
    assert result.orphans == {"purchase_order": 1}
    assert result.duplicates == {"purchase_order": 1}
    assert not result.ok


def test_one_archive_command_at_a_time(pair: Pair) -> None:
    ax = pair.archive()
    with run_lock(ax), pytest.raises(Conflict, match="another archive command is running"):
        run_archive(ax, families=PURCHASING, today=TODAY)


def test_a_bounded_run_stops_and_the_next_one_resumes(pair: Pair) -> None:
    ax = pair.archive(batch_size=5, sleep_seconds=0.2)
    first = run_archive(ax, families=PURCHASING, bounds=Bounds(max_duration_s=1.0), today=TODAY)
    assert first.state == "stopped" and "--max-duration 1s" in first.reason and first.throttled_s > 0
    second = run_archive(pair.archive(), families=PURCHASING, today=TODAY)
    assert second.resumed and second.run_id == first.run_id and second.state == "done"
    runs = status(ax)
    assert runs.runs[0]["state"] == "done" and runs.rows["purchase_orders"] == first.rows + second.rows


def _first_two_orders(pair: Pair) -> tuple[int, int]:
    with pair.source.connect() as conn:
        first = conn.execute(text("SELECT MIN(po.id) FROM purchase_order po JOIN goods_receipt gr ON "
                                  "gr.purchase_order_id = po.id WHERE po.status = 'closed'")).scalar_one()
        second = conn.execute(text("SELECT MIN(po.id) FROM purchase_order po JOIN goods_receipt gr ON "
                                   "gr.purchase_order_id = po.id WHERE po.id > :i AND po.status = 'closed'"),
                              {"i": first}).scalar_one()
    return int(first), int(second)


def _left(pair: Pair, ids: tuple[int, int]) -> list[int]:
    with pair.source.connect() as conn:
        return sorted(conn.execute(text("SELECT id FROM purchase_order WHERE id IN (:a, :b)"),
                                   {"a": ids[0], "b": ids[1]}).scalars().all())


@pytest.mark.pg
def test_a_document_locked_by_the_business_is_skipped_not_waited_for(pair: Pair) -> None:
    ids = _first_two_orders(pair)
    with pair.source.connect() as held, held.begin():
        held.execute(text("SELECT 1 FROM purchase_order WHERE id = :i FOR UPDATE"), {"i": ids[0]})
        began = time.monotonic()
        result = run_archive(pair.archive(lock_timeout_ms=100), families=PURCHASING, today=TODAY, check=False)
        assert time.monotonic() - began < 60 and result.lock_retries == 0
    assert _left(pair, ids) == [ids[0]]  # FOR UPDATE SKIP LOCKED: the next run takes it


@pytest.mark.pg
def test_a_locked_child_row_times_out_and_is_retried_after_a_pause(pair: Pair) -> None:
    ids = _first_two_orders(pair)
    held = pair.source.connect()
    business = held.begin()
    held.execute(text("SELECT 1 FROM goods_receipt WHERE purchase_order_id = :i FOR UPDATE"), {"i": ids[1]})

    def commit_later() -> None:
        time.sleep(2.0)
        business.commit()
        held.close()

    releaser = threading.Thread(target=commit_later)
    releaser.start()
    began = time.monotonic()
    result = run_archive(pair.archive(lock_timeout_ms=100), families=PURCHASING, today=TODAY, check=False)
    releaser.join()
    assert time.monotonic() - began >= 1.5, "the run finished while the lock was held"
    assert result.lock_retries >= 1  # lock_timeout, a pause, a retry: never queued behind the business
    assert _left(pair, ids) == []
