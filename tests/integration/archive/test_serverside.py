"""Batches that move inside PostgreSQL (destination: another schema of the same database): judged as the
Python path judges, hashed in SQL as recorded, verified by `archive verify`, rolled back on a mismatch."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    func,
    select,
    text,
)

from archive import serverside
from archive.candidates import scan
from archive.errors import VerificationFailed
from archive.periods import closed_through
from archive.plan import limits_for
from archive.purge import purge_session
from archive.rowhash import RECORD, Digest, digest
from archive.runner import Bounds, run_archive
from archive.sqlhash import aggregate_sql, supported, to_digest
from archive.sqlwindow import judge_in_server
from archive.store import archive_batch
from archive.verify import verify
from erpcore.models import metadata
from tests.integration.archive.conftest import TODAY, Pair, table_digests

pytestmark = pytest.mark.pg

PURCHASES = ["purchase_order", "purchase_order_line", "goods_receipt", "goods_receipt_line", "supplier_invoice",
             "supplier_invoice_line", "supplier_payment", "supplier_return", "supplier_return_line"]


def _json_columns(table: str) -> list[str]:
    return [c.name for c in metadata.tables[table].columns if "JSON" in str(c.type)]


def _batches(pair: Pair) -> list[dict[str, Any]]:
    with pair.source.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(select(archive_batch).where(archive_batch.c.state == "archived"))]


def test_batches_move_in_the_server_record_the_record_hash_and_verify(pair: Pair) -> None:
    before = table_digests(pair.source, PURCHASES)
    ax = pair.archive()
    # the record hash covers every column (JSON as jsonb): every family moves in the server but audit entries
    # (their chains' anchors move in Python); the canonical hash has no SQL rendering of JSON, so a closure
    # with a JSON column (a sales order's shipping instruction) takes Python's path under it
    assert ax.server_schema and [n for n, c in ax.closures.items() if not ax.server_side(c)] == ["audit_entries"]
    canonical = pair.archive(server_hash="canonical")
    on_python = {n for n, c in canonical.closures.items() if not canonical.server_side(c)}
    assert on_python == {n for n, c in ax.closures.items() if any(_json_columns(t) for t in c.tables)} | {
        "audit_entries"}
    assert "sales_orders" in on_python and "purchase_orders" not in on_python

    result = run_archive(ax, families=["purchase_orders"], today=TODAY)

    assert result.state == "done" and result.check_ok and result.rows > 0
    batches = _batches(pair)
    assert batches and all(b["hash"].startswith(RECORD + ":") for b in batches)
    assert all(h.startswith(RECORD + ":") for b in batches for h in b["hashes"].values())
    with pair.dest.connect() as conn:
        manifests = conn.execute(text("SELECT count(*) FROM archive_manifest WHERE state = 'archived'")).scalar_one()
    assert manifests == len(batches)
    after, archived = table_digests(pair.source, PURCHASES), table_digests(pair.dest, PURCHASES, dest=True)
    assert {t: after[t] + archived[t] for t in PURCHASES} == before
    assert verify(ax).ok
    with pair.dest.begin() as conn:  # the record hash catches a changed archive row
        conn.execute(text("UPDATE purchase_order_line SET quantity = quantity + 1 WHERE id = "
                          "(SELECT min(id) FROM purchase_order_line)"))
    bad = [b for b in verify(ax, check=False).batches if not b.ok]
    assert len(bad) == 1 and "purchase_order_line:" in bad[0].reason


def test_the_canonical_hash_in_sql_is_the_python_hash(pair: Pair) -> None:
    """Every archivable table's rows, and edge values, hash in the server exactly as `rowhash.digest`."""
    ax = pair.archive(server_hash="canonical")
    with pair.source.connect() as conn:
        for name in {t for c in ax.closures.values() for t in c.tables}:
            table = metadata.tables[name]
            if _json_columns(name):
                assert "JSON" in supported(table), name
                continue
            rows = [dict(r._mapping) for r in conn.execute(select(table))]
            assert to_digest(conn.exec_driver_sql(aggregate_sql(table, f"{name} r")).one()) == digest(table, rows)
    edge = Table("hash_edge", MetaData(), Column("id", BigInteger, primary_key=True), Column("flag", Boolean),
                 Column("at", DateTime(timezone=True)), Column("on", Date), Column("amount", Numeric(18, 4)),
                 Column("note", String(40)), Column("n", Integer))
    values = [{"id": 1, "flag": True, "at": dt.datetime(2024, 2, 29, 23, 59, 59, 5, tzinfo=dt.UTC),
               "on": dt.date(1999, 1, 2), "amount": Decimal("-12.5000"), "note": "Zürich, \"quoted\"\t|", "n": 0},
              {"id": 2, "flag": False, "at": dt.datetime(2024, 3, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=5))),
               "on": None, "amount": Decimal("0"), "note": "", "n": -7},
              {"id": 3, "flag": None, "at": None, "on": dt.date(2024, 1, 1), "amount": None, "note": None, "n": None}]
    with pair.source.begin() as conn:
        edge.create(conn)
        conn.execute(edge.insert(), values)
        read = [dict(r._mapping) for r in conn.execute(select(edge))]
        in_sql = to_digest(conn.exec_driver_sql(aggregate_sql(edge, "hash_edge r")).one())
        edge.drop(conn)
    assert in_sql == digest(edge, read) and in_sql.rows == 3


def test_a_canonical_server_batch_records_what_the_python_path_would(pair: Pair) -> None:
    ax = pair.archive(server_hash="canonical")
    run_archive(ax, families=["purchase_orders"], today=TODAY, check=False)
    batches = _batches(pair)
    assert batches and not any(b["hash"].startswith(RECORD) for b in batches)
    archived = table_digests(pair.dest, ["purchase_order"], dest=True)["purchase_order"]
    recorded = sum((Digest(b["counts"]["purchase_order"], int(b["hashes"]["purchase_order"], 16)) for b in batches),
                   Digest())
    assert (recorded.rows, recorded.value) == (archived.rows, archived.value)
    assert verify(ax, check=False).ok


def test_the_window_judged_in_sql_is_the_window_judged_in_python(pair: Pair) -> None:
    ax = pair.archive()
    with pair.source.connect() as conn:
        closed = closed_through(conn, ax.settings.closed_through, TODAY)
    compared = {"movable": 0, "skipped": 0}
    for name, closure in ax.closures.items():
        limits = limits_for(ax, name, closed, TODAY)
        if limits is None:
            continue
        after: Any = 0
        with pair.source.connect() as conn, conn.begin():
            purge_session(conn, 200, **serverside.FOLLOW_INDEXES)
            while True:
                python = scan(conn, closure, ax.tables, limits, after, 60)
                server = judge_in_server(conn, closure, ax.tables, limits, after, 60)
                assert server.last_key == python.last_key, name
                if python.last_key is None:
                    break
                assert server.movable == python.movable, name
                assert sorted((s.document, s.kind) for s in server.skipped) == \
                    sorted((s.document, s.kind) for s in python.skipped), name
                assert {t: n for t, n in server.counts.items() if n} == \
                    {t: len(r) for t, r in python.moving.rows.items() if r}, name
                compared["movable"] += len(python.movable)
                compared["skipped"] += len(python.skipped)
                after = python.last_key
            conn.rollback()
    assert compared["movable"] > 100 and compared["skipped"] > 0, compared


def test_a_batch_that_does_not_read_back_is_rolled_back(pair: Pair, monkeypatch: pytest.MonkeyPatch) -> None:
    before = table_digests(pair.source, PURCHASES)
    real = serverside._archived

    def tampered(*args: Any) -> dict[str, Digest]:
        got = real(*args)
        return {**got, "purchase_order": Digest(got["purchase_order"].rows, got["purchase_order"].value ^ 1, 0,
                                                RECORD)}

    monkeypatch.setattr(serverside, "_archived", tampered)
    ax = pair.archive(server_function=False)  # statement by statement (the one-call path: test_sqlbatch)
    with pytest.raises(VerificationFailed, match="purchase_order reads back from the archive"):
        run_archive(ax, families=["purchase_orders"], today=TODAY, check=False)
    assert table_digests(pair.source, PURCHASES) == before
    assert table_digests(pair.dest, PURCHASES, dest=True)["purchase_order"] == Digest()
    with pair.source.connect() as conn:
        assert conn.execute(select(func.count()).select_from(archive_batch)).scalar_one() == 0


def test_without_server_side_batches_go_through_python(pair: Pair) -> None:
    assert "JSON" in supported(metadata.tables["outbox"])
    ax = pair.archive(server_side=False)
    assert ax.server_schema is None and not any(ax.server_side(c) for c in ax.closures.values())
    run_archive(ax, families=["purchase_orders"], today=TODAY, check=False)
    assert _batches(pair) and not any(b["hash"].startswith(RECORD) for b in _batches(pair))
    assert verify(ax, check=False).ok


@pytest.mark.parametrize("one_call", [True, False])
def test_a_batch_past_its_time_bound_is_cancelled_and_retried_smaller(pair: Pair, one_call: bool) -> None:
    before = table_digests(pair.source, ["purchase_order", "purchase_order_line"])
    ax = pair.archive(batch_seconds=0.0005, server_function=one_call)  # every statement may run 1 ms: all but each batch's last try overrun

    result = run_archive(ax, families=["purchase_orders"], bounds=Bounds(max_rows=30), today=TODAY, check=False)

    assert result.rows >= 30 and result.overruns >= 5 * result.batches
    after = table_digests(pair.source, ["purchase_order", "purchase_order_line"])
    archived = table_digests(pair.dest, ["purchase_order", "purchase_order_line"], dest=True)
    assert {t: after[t] + archived[t] for t in before} == before
    assert verify(ax, check=False).ok
