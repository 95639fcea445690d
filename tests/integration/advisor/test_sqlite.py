"""The advisor on SQLite: a statement file and EXPLAIN QUERY PLAN over the schema copied into memory."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from advisor.errors import AdvisorUsageError
from advisor.sqlite_advice import analyze_sqlite, health_sqlite
from advisor.workload import read_file


@pytest.fixture
def sqlite_db(tmp_path: Path) -> str:
    path = tmp_path / "erp.sqlite"
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE customer (id INTEGER PRIMARY KEY, code TEXT UNIQUE, name TEXT);
        CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customer(id), status TEXT,
                             order_date TEXT, amount REAL);
        CREATE INDEX ix_orders_amount ON orders (amount);
        CREATE INDEX ix_orders_amount_date ON orders (amount, order_date);
        CREATE INDEX ix_orders_amount_copy ON orders (amount);
    """)
    conn.executemany("INSERT INTO customer VALUES (?, ?, ?)", [(i, f"C{i}", f"n{i}") for i in range(1, 501)])
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                     [(i, 1 + i % 500, ("draft", "open", "closed", "paid")[i % 4], f"2024-{1 + i % 12:02d}-01",
                       i % 300) for i in range(1, 20001)])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


WORKLOAD = """
-- calls: 200
SELECT id, amount FROM orders WHERE status = $1 ORDER BY order_date DESC LIMIT 20;
-- calls: 100
SELECT * FROM orders WHERE customer_id = $1;
-- calls: 50
SELECT * FROM customer WHERE code = $1;
SELECT * FROM nothing_here;
"""


def test_recommends_what_the_planner_would_use_and_nothing_covered(sqlite_db: str, tmp_path: Path) -> None:
    (tmp_path / "w.sql").write_text(WORKLOAD)
    report = analyze_sqlite(sqlite_db, read_file(tmp_path / "w.sql"), max_indexes=5)
    indexes = [r.index for r in report.recommendations]
    assert any(i.startswith("orders (status, order_date") for i in indexes), indexes
    assert any(i.startswith("orders (customer_id") for i in indexes), indexes
    assert not any(i.startswith("customer") for i in indexes)  # the code lookup has its unique index
    sort_aware = next(r for r in report.recommendations if r.index.startswith("orders (status"))
    assert "SCAN orders" in sort_aware.queries[0].plan_before and "TEMP B-TREE" in sort_aware.queries[0].plan_before
    assert "USING INDEX" in sort_aware.queries[0].plan_after
    assert report.rows_after < report.rows_before / 10
    assert [s.reason for s in report.skipped] == ["no such table: nothing_here"]
    assert not any(a.startswith(b.split(")")[0]) for a in indexes for b in indexes if a != b)


def test_the_source_database_is_not_changed(sqlite_db: str, tmp_path: Path) -> None:
    (tmp_path / "w.sql").write_text(WORKLOAD)
    path = sqlite_db.split("///", 1)[1]
    before = Path(path).read_bytes()
    analyze_sqlite(sqlite_db, read_file(tmp_path / "w.sql"), max_indexes=5)
    assert Path(path).read_bytes() == before


def test_duplicates_and_prefixes_on_sqlite(sqlite_db: str) -> None:
    found = health_sqlite(sqlite_db)
    kinds = {f.index: f.kind for f in found.findings}
    assert kinds == {"ix_orders_amount_copy": "duplicate", "ix_orders_amount": "prefix"}
    assert "no unused report" in found.reason


def test_a_missing_sqlite_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(AdvisorUsageError, match="no SQLite database"):
        health_sqlite(f"sqlite:///{tmp_path}/none.sqlite")
