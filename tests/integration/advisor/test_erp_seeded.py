"""The ERP as the first customer: on its seeded schema with indexes dropped, the advisor finds them again."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, text

from advisor.analyze import analyze, connect
from advisor.candidates import existing_covers
from advisor.catalog import read_catalog
from advisor.workload import read_file
from erpcore.seed import seed
from tests.dbhelpers import engine_for

pytestmark = pytest.mark.pg

DROPPED = {"ix_customer_invoice_customer_id": ("customer_invoice", "customer_id"),
           "ix_shipment_sales_order_id": ("shipment", "sales_order_id"),
           "ix_stock_move_move_date": ("stock_move", "move_date")}

WORKLOAD = """
-- calls: 300
SELECT id, number, total_amount, amount_paid FROM customer_invoice WHERE customer_id = $1 AND status = $2;
-- calls: 400
SELECT s.id, s.number, s.ship_date FROM shipment s WHERE s.sales_order_id = $1;
-- calls: 30
SELECT item_id, sum(quantity) FROM stock_move WHERE move_date BETWEEN $1 AND $2 GROUP BY item_id;
-- calls: 500
SELECT id, number, status FROM sales_order WHERE id = $1;
-- calls: 200
SELECT l.id, l.item_id, l.quantity FROM sales_order_line l WHERE l.sales_order_id = $1 ORDER BY l.line_no;
"""


@pytest.fixture(scope="module")
def erp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, str]]:
    """A seeded ERP (120 days, 20 orders a day) in a private schema, three of its indexes dropped; its URL
    for psycopg with the schema on the search path."""
    with engine_for("pg", tmp_path_factory.mktemp("erp")) as engine:
        seed(engine, 1, 20, 7, days=120)
        with engine.begin() as conn:
            for name in DROPPED:
                conn.execute(text(f"DROP INDEX {name}"))
            conn.execute(text("ANALYZE"))
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        base = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        yield engine, f"{base}?options={quote(f'-csearch_path={schema}')}"


def test_the_dropped_indexes_are_found_again_and_nothing_redundant(erp: tuple[Engine, str], tmp_path: Path) -> None:
    _engine, url = erp
    (tmp_path / "w.sql").write_text(WORKLOAD)
    with connect(url) as conn:
        report = analyze(conn, read_file(tmp_path / "w.sql"))
        catalog = read_catalog(conn)
    # each dropped column leads again, or sits among the equality columns that lead (any order serves `=`)
    leading = {(r.table, c) for r in report.recommendations for c in r.columns[:2]}
    assert set(DROPPED.values()) <= leading, leading
    chosen = [r.candidate for r in report.recommendations]
    assert not any(a != b and a.covers(b) for a in chosen for b in chosen)
    assert not any(existing_covers(i, c) for i in catalog.indexes for c in chosen)
    # sales_order by id needs nothing; its lines have the unique (sales_order_id, line_no): only a covering
    # index (INCLUDE, for index-only scans) may be proposed there
    assert "sales_order" not in {r.table for r in report.recommendations}
    assert all(r.include for r in report.recommendations if r.table == "sales_order_line")
    assert report.skipped == []


def test_the_health_report_of_the_seeded_erp_keeps_its_keys_and_foreign_keys(erp: tuple[Engine, str]) -> None:
    from advisor.health import report

    _engine, url = erp
    with connect(url) as conn:
        found = report(read_catalog(conn))
    kept = dict(found.kept)
    assert kept["pk_sales_order"] == "primary key"
    assert kept["ix_sales_order_customer_id"] == "supports the foreign key (customer_id)"
    assert not [f for f in found.findings if f.kind in ("duplicate", "prefix", "invalid")]
