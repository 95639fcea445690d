"""What the advisor found in the ERP's own schema stays acted on: no prefix-covered index is left."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from advisor.catalog import read_catalog
from advisor.health import duplicates

DROPPED = {"ix_sales_order_line_sales_order_id", "ix_purchase_order_line_purchase_order_id",
           "ix_supplier_invoice_supplier_id"}


def test_the_redundant_indexes_are_gone_on_both_engines(engine: Engine) -> None:
    names = {ix["name"] for table in inspect(engine).get_table_names() for ix in inspect(engine).get_indexes(table)}
    assert not names & DROPPED
    assert "ix_sales_order_line_item_id" in names  # the neighbours stay


def test_no_duplicate_or_prefix_covered_index_in_the_erp_schema(engine: Engine) -> None:
    from advisor.sqlite_advice import read_sqlite_catalog

    raw = engine.raw_connection()  # on PostgreSQL its search path is the test's private schema
    try:
        if engine.dialect.name == "sqlite":
            catalog = read_sqlite_catalog(raw.driver_connection)  # type: ignore[arg-type]
        else:
            catalog = read_catalog(raw.driver_connection)
            catalog.indexes = [i for i in catalog.indexes if "." not in i.table]  # other schemas print qualified
            assert {i.table for i in catalog.indexes} >= {"sales_order_line", "purchase_order_line"}
    finally:
        raw.close()
    assert [(f.index, f.kind, f.kept) for f in duplicates(catalog)] == []
