"""Unused, duplicate, prefix-covered and invalid indexes over a catalog."""

from __future__ import annotations

from advisor.health import protected, report
from tests.unit.advisor.fakes import catalog, index


def _kinds(found: list[object]) -> dict[str, str]:
    return {f.index: f.kind for f in found}  # type: ignore[attr-defined]


def test_unused_excludes_keys_unique_and_foreign_key_indexes() -> None:
    cat = catalog([
        index("pk_sales_order", "sales_order", ["id"], primary=True),
        index("uq_number", "sales_order", ["number"], unique=True),
        index("ix_customer", "sales_order", ["customer_id"]),
        index("ix_status", "sales_order", ["status"]),
        index("ix_date", "sales_order", ["order_date"], scans=12),
    ], fks={"sales_order": [("customer_id",)]})
    result = report(cat)
    assert _kinds(result.findings) == {"ix_status": "unused"}
    kept = dict(result.kept)
    assert kept == {"pk_sales_order": "primary key", "uq_number": "enforces uniqueness",
                    "ix_customer": "supports the foreign key (customer_id)"}
    finding = result.findings[0]
    assert finding.drop == "DROP INDEX CONCURRENTLY ix_status;"
    assert "no scan since 2026-12-01" in finding.reason


def test_exact_duplicates_keep_the_unique_one_or_the_first_name() -> None:
    cat = catalog([index("ix_b", "shipment", ["status"], scans=3), index("ix_a", "shipment", ["status"], scans=5),
                   index("uq_x", "shipment", ["ship_date"], unique=True, scans=1),
                   index("ix_x", "shipment", ["ship_date"], scans=9)])
    kinds = _kinds(report(cat).findings)
    assert kinds == {"ix_b": "duplicate", "ix_x": "duplicate"}


def test_prefix_covered_indexes_are_reported_with_the_one_that_covers_them() -> None:
    cat = catalog([index("ix_status", "sales_order", ["status"], scans=50),
                   index("ix_status_date", "sales_order", ["status", ("order_date", True)], scans=50),
                   index("ix_mixed", "sales_order", ["customer_id", ("order_date", True)], scans=1),
                   index("ix_cust_date", "sales_order", ["customer_id", "order_date", "net_amount"], scans=1),
                   index("ix_desc", "shipment", [("ship_date", True)], scans=1),
                   index("ix_ship_date", "shipment", ["ship_date", "status"], scans=1),
                   index("uq_date", "sales_order", ["order_date"], unique=True, scans=1),
                   index("ix_date_status", "sales_order", ["order_date", "status"], scans=1)])
    result = report(cat)
    found = {f.index: (f.kind, f.kept) for f in result.findings}
    # a btree reads both ways: (ship_date DESC) leads (ship_date, status); (customer_id, order_date DESC) leads
    # no index whose second key runs the other way
    assert found == {"ix_status": ("prefix", "ix_status_date"), "ix_desc": ("prefix", "ix_ship_date")}
    assert "2 prefix-covered" in result.reason


def test_partial_indexes_are_not_prefixes_of_whole_table_ones() -> None:
    cat = catalog([index("ix_part", "sales_order", ["status"], partial=True, scans=1),
                   index("ix_whole", "sales_order", ["status", "order_date"], scans=1)])
    assert report(cat).findings == []


def test_invalid_indexes_are_reported_and_not_counted_as_duplicates() -> None:
    cat = catalog([index("ix_broken", "sales_order", ["status"], valid=False, scans=0),
                   index("ix_ok", "sales_order", ["status"], scans=4)])
    result = report(cat)
    assert _kinds(result.findings) == {"ix_broken": "invalid"}
    assert result.to_json()["invalid"][0].index == "ix_broken"


def test_foreign_key_support_needs_the_leading_columns() -> None:
    cat = catalog(fks={"shipment": [("sales_order_id",)]})
    assert protected(index("a", "shipment", ["sales_order_id", "status"]), cat)
    assert not protected(index("b", "shipment", ["status", "sales_order_id"]), cat)
