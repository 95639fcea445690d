"""Every foreign key into an archived table has an index on its referencing column (migration 0008)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from archive.closure import unindexed_references
from archive.context import open_archive
from archive.settings import ArchiveSettings
from tests.dbhelpers import sqlite_engine

ADDED = {"journal_entry.reversal_of_id", "purchase_requisition.sales_order_line_id", "shipment_line.reservation_id",
         "purchase_order_line.requisition_id", "customer_invoice_line.sales_order_line_id"}


def test_no_reference_into_an_archived_table_lacks_an_index(engine: Engine, tmp_path: Path) -> None:
    with sqlite_engine(tmp_path, migrate=False) as dest:
        ax = open_archive(ArchiveSettings(), source=engine, dest=dest, create=False)
    edges = {f"{e.child}.{e.column}" for c in ax.closures.values() for e in [*c.owning.values(), *c.inbound]}
    assert edges >= ADDED  # the five columns are references the closures follow
    with engine.connect() as conn:
        assert unindexed_references(conn, ax.closures.values()) == []
