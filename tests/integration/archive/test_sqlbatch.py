"""A server-side batch as one call of a PL/pgSQL function (`archive.sqlbatch`): it judges each window as the
Python path judges it, moves what it judged movable, rolls everything back on a mismatch, and leaves the
same books as the statement-by-statement path."""

from __future__ import annotations

import random
import threading
import time
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from archive import sqlbatch
from archive.candidates import scan
from archive.errors import VerificationFailed
from archive.periods import closed_through
from archive.plan import limits_for
from archive.rowhash import RECORD
from archive.runner import run_archive
from archive.runs import start_or_resume
from archive.sqlhash import to_digest
from archive.store import archive_batch, archive_checkpoint
from archive.verify import verify
from tests.integration.archive.conftest import TODAY, Pair, table_digests

pytestmark = pytest.mark.pg

PURCHASES = ["purchase_order", "purchase_order_line", "goods_receipt", "goods_receipt_line", "supplier_invoice",
             "supplier_invoice_line", "supplier_payment", "supplier_return", "supplier_return_line"]
SALES = ["sales_order", "sales_order_line", "shipping_instruction", "shipment", "shipment_line",
         "customer_invoice", "customer_receipt"]


def _reason(document: str, kind: str, reason: str) -> tuple[str, str, str]:
    return document, kind, reason.split(" ")[2] if kind == "referenced" else reason


def _compare_windows(pair: Pair, families: list[str] | None = None) -> dict[str, Any]:
    """Judge every window of 60 of `families` (all) both ways, asserting the same outcome; what was compared."""
    ax = pair.archive()
    with pair.source.connect() as conn:
        closed = closed_through(conn, ax.settings.closed_through, TODAY)
    compared: dict[str, Any] = {"movable": 0, "skipped": 0, "families": 0, "reasons": []}
    for name, closure in ax.closures.items():
        limits = limits_for(ax, name, closed, TODAY)
        if limits is None or (families is not None and name not in families):
            continue
        compared["families"] += 1
        with pair.source.connect() as conn, conn.begin():
            function = sqlbatch.install(conn, ax, closure)
            after: Any = 0
            while True:
                python = scan(conn, closure, ax.tables, limits, after, 60)
                got = conn.exec_driver_sql(
                    f"SELECT {function}(0, %(after)s, 60, %(until)s, %(closed)s, %(end)s, %(source)s, %(years)s)",
                    {"after": after, "until": limits.until, "closed": limits.closed_through,
                     "end": limits.residence_end, "source": limits.closed_source,
                     "years": f"{limits.residence_years:g}"}).scalar_one()
                if python.last_key is None:
                    assert got == {"done": True}, name
                    break
                assert got["last_key"] == python.last_key, name
                assert got.get("documents", 0) == len(python.movable), name
                assert got.get("rows", 0) == python.moving.row_count, name
                # the same reasons, word for word (which of several referencing rows is named may differ)
                assert sorted(_reason(*s) for s in got.get("skipped") or []) == \
                    sorted(_reason(s.document, s.kind, s.reason) for s in python.skipped), name
                compared["movable"] += len(python.movable)
                compared["skipped"] += len(python.skipped)
                compared["reasons"] += [s.reason for s in python.skipped]
                after = python.last_key
            conn.rollback()
    return compared


def test_each_call_moves_exactly_the_window_python_judges_movable(pair: Pair) -> None:
    compared = _compare_windows(pair)
    assert compared["movable"] > 100 and compared["skipped"] > 0 and compared["families"] >= 5, compared


def test_a_row_of_a_later_order_referencing_an_earlier_orders_reservation_keeps_it(pair: Pair) -> None:
    """A reference between two tables of the closure, from a document outside the window: the counts over the
    window's key range differ, so the per-row probes run and name the referencing row, as Python does."""
    with pair.source.begin() as conn:
        reservation = conn.execute(text(
            "SELECT s.id FROM stock_reservation s JOIN sales_order_line l ON l.id = s.sales_order_line_id "
            "JOIN sales_order o ON o.id = l.sales_order_id WHERE o.status = 'closed' ORDER BY o.id, s.id LIMIT 1")
        ).scalar_one()
        line = conn.execute(text(  # 200 orders on: never in the same window of 60
            "SELECT sl.id FROM shipment_line sl JOIN sales_order_line l ON l.id = sl.sales_order_line_id "
            "JOIN sales_order o ON o.id = l.sales_order_id WHERE o.status = 'closed' ORDER BY o.id, sl.id "
            "OFFSET 200 LIMIT 1")).scalar_one()
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the posted rows' triggers
        conn.execute(text("UPDATE shipment_line SET reservation_id = :r WHERE id = :l"),
                     {"r": reservation, "l": line})
    compared = _compare_windows(pair, ["sales_orders"])
    assert f"referenced by shipment_line {line} (reservation_id)" in compared["reasons"], compared["reasons"]
    assert compared["movable"] > 100


def test_one_call_batches_leave_what_statement_batches_leave(pair: Pair) -> None:
    """Same documents moved, same checkpoint, the same carry-forward: ledgers and `erpops check` whole."""
    before = table_digests(pair.source, PURCHASES + SALES)
    ax = pair.archive()
    result = run_archive(ax, today=TODAY)
    assert result.state == "done" and result.check_ok, result.check_violations
    assert result.family_rows["sales_orders"] > 0 and result.family_rows["journal_entries"] > 0
    after, archived = table_digests(pair.source, PURCHASES + SALES), table_digests(pair.dest, PURCHASES + SALES,
                                                                                 dest=True)
    assert {t: after[t] + archived[t] for t in before} == before
    with pair.source.connect() as conn:
        batches = [dict(r._mapping) for r in conn.execute(select(archive_batch))]
        points = {r.family: r for r in conn.execute(select(archive_checkpoint))}
        carried = conn.execute(text("SELECT count(*) FROM journal_entry WHERE number LIKE 'ARCF-%'")).scalar_one()
        functions = conn.execute(text("SELECT count(*) FROM pg_proc WHERE proname LIKE :p"),
                                 {"p": sqlbatch.PREFIX + "%"}).scalar_one()
    assert batches and all(b["state"] == "archived" and b["hash"].startswith(RECORD + ":") for b in batches)
    assert sum(b["rows"] for b in batches) == result.rows
    assert all(points[f].done for f in result.family_rows)
    assert sum(p.rows for p in points.values()) == result.rows
    assert carried >= 1 and any("carried forward" in (b["reason"] or "") for b in batches)
    assert functions == 0  # the run drops what it created
    checked = verify(ax)
    assert checked.ok, [b.reason for b in checked.batches if not b.ok]


def test_a_mismatch_in_the_call_rolls_the_whole_batch_back(pair: Pair) -> None:
    """An archive table that does not keep what it is given (here a trigger) fails the read-back: nothing moves,
    no batch, no manifest, no checkpoint step, no carry-forward."""
    before = table_digests(pair.source, PURCHASES)
    with pair.dest.begin() as conn:
        ax = pair.archive()  # creates the archive's tables
        conn.execute(text("CREATE FUNCTION bump() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                          "NEW.quantity := NEW.quantity + 1; RETURN NEW; END $$"))
        conn.execute(text("CREATE TRIGGER bump BEFORE INSERT ON purchase_order_line FOR EACH ROW EXECUTE "
                          "FUNCTION bump()"))
    with pytest.raises(VerificationFailed, match="purchase_order_line reads back from the archive as"):
        run_archive(ax, families=["purchase_orders"], today=TODAY, check=False)
    assert table_digests(pair.source, PURCHASES) == before
    assert all(d.rows == 0 for d in table_digests(pair.dest, PURCHASES, dest=True).values())
    with pair.source.connect() as conn:
        assert conn.execute(select(func.count()).select_from(archive_batch)).scalar_one() == 0
        assert conn.execute(select(archive_checkpoint.c.last_key)).scalars().all() == [0]
    with pair.dest.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM archive_manifest")).scalar_one() == 0


def test_a_call_killed_at_its_last_step_leaves_nothing_and_the_rerun_finishes(pair: Pair) -> None:
    """A batch's call blocked on its very last write (the checkpoint) when its server process is killed: the
    rows it had moved, its batch, manifest and carry-forward all vanish with it; the rerun finishes the job
    with no duplicate and no orphan."""
    before = table_digests(pair.source, PURCHASES)
    ax = pair.archive(lock_timeout_ms=60_000, batch_seconds=0)
    with pair.source.connect() as conn:
        closed = closed_through(conn, ax.settings.closed_through, TODAY)
    limits = limits_for(ax, "purchase_orders", closed, TODAY)
    assert limits is not None
    run = start_or_resume(ax, {"purchase_orders": limits}, (closed.date, closed.source))
    caller, failed = sqlbatch.Caller(ax), []

    def call() -> None:
        try:
            caller.batch(run.id, ax.closures["purchase_orders"], limits, 0, 400, None)
        except DBAPIError as exc:
            failed.append(exc)

    with pair.source.connect() as holder, holder.begin():
        holder.execute(select(archive_checkpoint).with_for_update())
        worker = threading.Thread(target=call)
        worker.start()
        pid = None
        for _ in range(400):
            with pair.source.connect() as probe:
                pid = probe.execute(text("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND "
                                         "query LIKE :q"), {"q": f"%{sqlbatch.PREFIX}purchase_orders%"}).scalar()
            if pid:
                break
            time.sleep(0.05)
        assert pid, "the call never waited on the checkpoint"
        with pair.source.connect() as killer:
            killer.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
        worker.join(timeout=30)
    assert failed and not worker.is_alive()
    caller.conn = None  # its connection died with the server process
    with pair.source.connect() as conn:
        assert conn.execute(select(func.count()).select_from(archive_batch)).scalar_one() == 0
        assert conn.execute(select(archive_checkpoint.c.last_key)).scalars().all() == [0]
    assert table_digests(pair.source, PURCHASES) == before
    assert all(d.rows == 0 for d in table_digests(pair.dest, PURCHASES, dest=True).values())
    result = run_archive(pair.archive(), families=["purchase_orders"], today=TODAY, check=False)
    assert result.resumed and result.state == "done" and result.rows > 0
    after, archived = table_digests(pair.source, PURCHASES), table_digests(pair.dest, PURCHASES, dest=True)
    assert {t: after[t] + archived[t] for t in before} == before
    checked = verify(pair.archive())
    assert checked.ok and not checked.duplicates and not checked.orphans


def test_the_hash_text_in_sql_is_the_digest_text(pair: Pair) -> None:
    """`erpops_archive_hex` writes a digest's parts as `rowhash.Digest.hex` does, both kinds, at the edges too."""
    rng = random.Random(15)
    cases = [[1, 0, 0, 0, 0], [3, -1, -1, 1, 9], [2, 2**63 - 1, -(2**63), 1, 0], [1, 2**70, -(2**70), 50, 0]]
    cases += [[rng.randint(1, 99), rng.randint(-2**70, 2**70), rng.randint(-2**70, 2**70), rng.randint(0, 50), 0]
              for _ in range(200)]
    with pair.dest.begin() as conn:
        conn.exec_driver_sql(sqlbatch.hex_function_sql(str(pair.archive().server_schema)))
        for parts in cases:
            for kind in ("", RECORD):
                got = conn.execute(text("SELECT erpops_archive_hex(CAST(:p AS numeric[]), :k)"),
                                   {"p": parts, "k": kind}).scalar_one()
                assert got == to_digest(parts, kind).hex, (parts, kind)
