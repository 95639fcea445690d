"""SQLite's plans read as rows: scans read tables, searches the rows per key, joins multiply, LIMIT stops early."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from advisor.candidates import Candidate
from advisor.sqlite_advice import _Memory, read_sqlite_catalog


@pytest.fixture
def memory(tmp_path: Path) -> _Memory:
    path = tmp_path / "s.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c TEXT);"
                       "CREATE TABLE u (id INTEGER PRIMARY KEY, t_id INTEGER, d TEXT);"
                       "CREATE INDEX ix_u_t ON u (t_id);")
    conn.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", [(i, f"a{i % 10}", i % 100, "x") for i in range(1, 2001)])
    conn.executemany("INSERT INTO u VALUES (?, ?, ?)", [(i, 1 + i % 2000, "y") for i in range(1, 4001)])
    conn.commit()
    catalog = read_sqlite_catalog(conn)
    return _Memory(conn, catalog)


def test_a_scan_reads_the_table_and_a_sort_reads_it_again(memory: _Memory) -> None:
    plan, rows = memory.plan("SELECT * FROM t WHERE a = 'a1'")
    assert plan == "SCAN t" and rows == 2000
    plan, rows = memory.plan("SELECT * FROM t WHERE a = 'a1' ORDER BY c")
    assert "TEMP B-TREE" in plan and rows == 4000


def test_a_search_reads_the_rows_per_key_measured_on_the_data(memory: _Memory) -> None:
    memory.add(Candidate("t", (("a", False),)), "ix_t_a")
    plan, rows = memory.plan("SELECT * FROM t WHERE a = $1")
    assert "SEARCH t USING INDEX ix_t_a (a=?)" in plan
    assert rows == 200  # 2,000 rows over 10 distinct values
    memory.drop("ix_t_a")
    assert memory.plan("SELECT * FROM t WHERE a = $1")[0] == "SCAN t"


def test_a_primary_key_lookup_is_one_row_and_joins_multiply(memory: _Memory) -> None:
    assert memory.plan("SELECT * FROM t WHERE id = 5")[1] == 1.0
    plan, rows = memory.plan("SELECT * FROM t JOIN u ON u.t_id = t.id")
    assert plan.startswith("SCAN") and "SEARCH" in plan
    assert rows > 2000  # every outer row searches the inner table


def test_limit_stops_a_scan_early_but_not_one_that_must_sort(memory: _Memory) -> None:
    memory.add(Candidate("t", (("b", False),)), "ix_t_b")
    assert memory.plan("SELECT * FROM t ORDER BY b LIMIT 10")[1] == 10
    assert memory.plan("SELECT * FROM t WHERE a = 'a1' ORDER BY b LIMIT 10")[1] == 40  # filtered: 4 rows read per hit
    assert memory.plan("SELECT * FROM t ORDER BY c LIMIT $1")[1] == 4000


def test_the_catalog_reads_keys_uniqueness_and_row_counts(memory: _Memory) -> None:
    catalog = memory.catalog
    assert catalog.tables["t"].rows == 2000 and catalog.tables["u"].columns == {"id", "t_id", "d"}
    [ix] = catalog.indexes_on("u")
    assert (ix.name, ix.columns, ix.unique) == ("ix_u_t", ("t_id",), False)
