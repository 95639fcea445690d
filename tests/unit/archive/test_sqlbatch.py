"""The one-call batch function's text: every guarantee of a server-side batch is in it, for every family."""

from __future__ import annotations

from typing import Any

import pytest

from archive import sqlbatch
from archive.context import _derive
from archive.rowhash import RECORD
from archive.settings import ArchiveSettings
from archive.sqlhash import aggregate_sql, supported
from erpcore.models import metadata

TABLES = {t.name: t for t in metadata.sorted_tables}


def _archive(**settings: Any) -> Any:
    ax = _derive(ArchiveSettings(**settings), None, None, TABLES, set(TABLES))  # type: ignore[arg-type]
    ax.server_schema = "arch"
    return ax


@pytest.mark.parametrize("family", ["purchase_orders", "sales_orders", "journal_entries", "stock_moves",
                                    "work_orders"])
def test_the_function_locks_skipping_verifies_every_table_and_books_with_the_move(family: str) -> None:
    ax = _archive(lock_timeout_ms=150)
    closure = ax.closures[family]
    sql = sqlbatch.function_sql(ax, closure, "arch", "prod", set(TABLES), RECORD)
    assert "FOR UPDATE SKIP LOCKED" in sql and "SET lock_timeout = '150ms'" in sql
    assert 'SET "erpops.allow_purge" = \'on\'' in sql and 'SET search_path = "prod", pg_catalog' in sql
    assert "SET plan_cache_mode = 'force_generic_plan'" in sql  # planned once a session, not once a call
    assert "SET backend_flush_after = '256kB'" in sql  # a purge transaction's settings, as `purge_session`'s
    leaves = sqlbatch.by_parent(closure, ax.tables)
    for k, table in enumerate(closure.tables):  # deleted as judged, and read back as deleted, or the batch raises
        assert (f"'batch %: {table}: deleted % rows, judged %" in sql) == (k not in leaves)
        assert f"'batch %: {table} reads back from the archive as" in sql
        assert f'INSERT INTO "arch"."{table}"' in sql
    assert sql.count(f"USING ERRCODE = '{sqlbatch.MISMATCH}'") == 2 * len(closure.tables) - len(leaves)
    assert sql.count("UPDATE archive_checkpoint") == 3  # no candidates, nothing movable, moved
    assert "INSERT INTO archive_batch (" in sql and 'INSERT INTO "arch".archive_manifest (' in sql
    assert ("ARCF-" in sql) == (closure.family.carry_forward == "journal")
    assert ("INSERT INTO stock_move" in sql) == (closure.family.carry_forward == "stock")


def test_the_record_hash_covers_json_columns_as_jsonb() -> None:
    instruction = TABLES["shipping_instruction"]
    assert supported(instruction, RECORD) == "" and "lines" in supported(instruction)
    assert 'r."lines"::jsonb' in aggregate_sql(instruction, "shipping_instruction r", kind=RECORD)
    assert _archive().server_side(_archive().closures["sales_orders"])
    canonical = _archive(server_hash="canonical")
    assert not canonical.server_side(canonical.closures["sales_orders"])


def test_a_leaf_no_fact_is_about_moves_by_its_parents_keys_without_a_walk_of_its_own() -> None:
    ax = _archive()
    journal, orders = ax.closures["journal_entries"], ax.closures["sales_orders"]
    assert sqlbatch.by_parent(journal, ax.tables) == {1: 0}  # journal_line by its entry's keys
    sql = sqlbatch.function_sql(ax, journal, "arch", "prod", set(TABLES), RECORD)
    assert 'DELETE FROM "journal_line" WHERE "journal_entry_id" = ANY(v_ids0)' in sql
    assert "x1 AS" not in sql and "v_ids1" not in sql
    # every table of an order is dated, has a status or is referenced (an invoice line by a return line):
    # all are walked and counted
    assert sqlbatch.by_parent(orders, ax.tables) == {}
    assert sqlbatch.by_parent(ax.closures["work_orders"], ax.tables) == {1: 0}


def test_references_between_a_closures_own_tables_are_counted_over_the_window_before_any_probe() -> None:
    """Every inbound edge into an integer key from a table but the root gets a range check gating its probes;
    the journal's one (a reversal, from the root itself) is probed per row as before."""
    ax = _archive()
    orders, journal = ax.closures["sales_orders"], ax.closures["journal_entries"]
    sql = sqlbatch.function_sql(ax, orders, "arch", "prod", set(TABLES), RECORD)
    for e, edge in enumerate(orders.inbound):
        assert f"ok{e}(v) AS (SELECT CASE WHEN n = 0" in sql and f"WHERE NOT (SELECT v FROM ok{e})" in sql
        if edge.child in orders.tables:  # its rows in the window carry the column the counts compare
            assert f't."{edge.column}" AS ref{e}' in sql
    assert f"ok{len(orders.inbound)}(v)" not in sql
    sql = sqlbatch.function_sql(ax, journal, "arch", "prod", set(TABLES), RECORD)
    assert [e.child for e in journal.inbound] == ["journal_entry"] and "ok0(v)" not in sql
    assert "sources(type, ids, roots) AS (" in sql and "FROM types" not in sql
