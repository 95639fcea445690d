"""Restore by batch, by document and by date range: exact rows back, postings with their documents, the
carry-forward replaced, refusals with their reason, and an interrupted restore finished by the next command."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text

from archive.reconcile import reconcile
from archive.restore import Selection, restore
from archive.runner import run_archive
from archive.runs import run_lock
from archive.store import archive_batch
from archive.verify import verify
from erpcore.check import run_check
from erpcore.exceptions import Conflict, NotFound, ValidationFailed
from erpcore.reports import trial_balance
from tests.integration.archive.conftest import TODAY, Pair, table_digests

SALES = ["sales_order", "sales_order_line", "shipment", "shipment_line", "customer_invoice",
         "customer_invoice_line", "customer_receipt", "stock_reservation"]


def _batches(pair: Pair, family: str) -> list[int]:
    with pair.source.connect() as conn:
        return list(conn.execute(select(archive_batch.c.id).where(archive_batch.c.family == family,
                                                                  archive_batch.c.state == "archived")
                                 .order_by(archive_batch.c.id)).scalars())


def _count(pair: Pair, sql: str, **params: object) -> int:
    with pair.source.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def test_restore_by_batch_brings_back_exactly_that_batch(pair: Pair) -> None:
    before = table_digests(pair.source, SALES)
    ax = pair.archive()
    run_archive(ax, families=["purchase_orders", "purchase_requisitions", "sales_orders"], today=TODAY)
    last = _batches(pair, "sales_orders")[-1]
    with pair.dest.connect() as conn:
        in_batch = conn.execute(text("SELECT COUNT(*) FROM sales_order WHERE archive_batch_id = :b"),
                                {"b": last}).scalar_one()
    orders_before = _count(pair, "SELECT COUNT(*) FROM sales_order")

    result = restore(ax, Selection(batch_ids=(last,)))

    assert result.batches == [last] and result.documents == in_batch
    assert _count(pair, "SELECT COUNT(*) FROM sales_order") == orders_before + in_batch
    with pair.source.connect() as conn:
        state = conn.execute(select(archive_batch.c.state).where(archive_batch.c.id == last)).scalar_one()
    assert state == "restored"
    after = table_digests(pair.source, SALES)
    archived = table_digests(pair.dest, SALES, dest=True)
    assert {t: after[t] + archived[t] for t in SALES} == before
    assert verify(ax).ok


def test_restore_by_document_brings_its_postings_back(pair: Pair) -> None:
    ax = pair.archive()
    run_archive(ax, today=TODAY)
    with pair.dest.connect() as conn:
        number, order_id = conn.execute(text("SELECT number, id FROM sales_order ORDER BY id LIMIT 1")).one()
    result = restore(ax, Selection(document=number))
    assert result.documents == 1 and result.postings >= 2
    assert _count(pair, "SELECT COUNT(*) FROM sales_order WHERE number = :n", n=number) == 1
    shipped = _count(pair, "SELECT COUNT(*) FROM journal_entry je JOIN shipment s ON je.source_type = 'shipment' "
                           "AND je.source_id = s.id WHERE s.sales_order_id = :o", o=order_id)
    assert shipped >= 1
    assert run_check(pair.source).ok
    assert verify(ax).ok
    with pytest.raises(NotFound, match="nothing archived matches"):
        restore(ax, Selection(document=number))


def test_restoring_part_of_a_journal_batch_replaces_its_carry_forward(pair: Pair) -> None:
    open_period = (dt.date(2025, 1, 1), TODAY)
    tb = trial_balance(pair.source, *open_period)
    ax = pair.archive()
    run_archive(ax, today=TODAY)
    first = _batches(pair, "journal_entries")[0]
    with pair.dest.connect() as conn:
        day = conn.execute(text("SELECT MIN(entry_date) FROM journal_entry WHERE archive_batch_id = :b"),
                           {"b": first}).scalar_one()
    day = day if isinstance(day, dt.date) else dt.date.fromisoformat(str(day))
    result = restore(ax, Selection(family="journal_entries", date_from=day, date_to=day))
    assert result.postings >= 1 and first in result.batches
    assert run_check(pair.source).ok
    assert trial_balance(pair.source, *open_period) == tb
    assert _count(pair, "SELECT COUNT(*) FROM journal_entry WHERE number = :n", n=f"ARCF-{first:010d}") <= 1
    assert verify(ax).ok


def test_a_restore_whose_parents_are_archived_is_refused_and_writes_nothing(pair: Pair) -> None:
    ax = pair.archive()
    run_archive(ax, families=["purchase_orders", "purchase_requisitions"], today=TODAY)
    first_po_batch = _batches(pair, "purchase_orders")[0]
    before = table_digests(pair.source, ["purchase_order", "purchase_order_line"])
    with pair.dest.connect() as conn:
        referencing = conn.execute(text("SELECT COUNT(*) FROM purchase_order_line WHERE archive_batch_id = :b AND "
                                        "requisition_id IN (SELECT id FROM purchase_requisition)"),
                                   {"b": first_po_batch}).scalar_one()
    if referencing == 0:
        pytest.skip("the seed gave this batch no requisition-backed lines")
    with pytest.raises(Conflict, match="cannot go back yet"):
        restore(ax, Selection(batch_ids=(first_po_batch,)))
    assert table_digests(pair.source, ["purchase_order", "purchase_order_line"]) == before
    assert verify(ax).ok


def test_an_interrupted_restore_is_finished_by_the_next_command(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    ax = pair.archive()
    run_archive(ax, families=["purchase_orders", "purchase_requisitions", "sales_orders"], today=TODAY)
    last = _batches(pair, "sales_orders")[-1]

    def killed(*_args: object) -> None:
        raise KeyboardInterrupt("killed between the source commit and the archive delete")

    monkeypatch.setattr("archive.restore.drop_restored", killed)
    with pytest.raises(KeyboardInterrupt):
        restore(ax, Selection(batch_ids=(last,)))
    monkeypatch.undo()
    with run_lock(ax):
        notes = reconcile(ax)
    assert any("finished an interrupted restore" in n for n in notes)
    result = verify(ax)
    assert result.ok and not result.duplicates


def test_a_selection_must_name_something(pair: Pair) -> None:
    with pytest.raises(ValidationFailed, match="say what to restore"):
        restore(pair.archive(), Selection())
