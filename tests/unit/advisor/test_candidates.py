"""Candidate indexes from shapes, and when one index makes another redundant."""

from __future__ import annotations

from advisor.candidates import Candidate, covered_by_any, existing_covers, existing_serves, for_shape
from advisor.shape import shape_of
from tests.unit.advisor.fakes import catalog, index


def _keys(cands: set[Candidate], table: str = "sales_order") -> set[tuple[tuple[str, bool], ...]]:
    return {c.keys for c in cands if c.table == table and not c.include}


def test_equality_then_sort_columns_make_a_sort_aware_candidate() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE status = $1 ORDER BY order_date DESC LIMIT 20")
    keys = _keys(for_shape(shape, catalog()))
    assert (("status", False), ("order_date", False)) in keys  # DESC alone: a backward scan of ASC serves it
    assert (("status", False),) in keys and (("order_date", False),) in keys


def test_mixed_sort_directions_keep_their_relative_order() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE status = 'a' ORDER BY order_date DESC, id ASC")
    keys = _keys(for_shape(shape, catalog()))
    assert (("status", False), ("order_date", False), ("id", True)) in keys


def test_equality_then_one_range_column() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE customer_id = 1 AND status = 'a' AND order_date > $1")
    keys = _keys(for_shape(shape, catalog()))
    assert (("customer_id", False), ("status", False), ("order_date", False)) in keys
    assert (("customer_id", False), ("status", False)) in keys
    assert (("status", False), ("customer_id", False)) in keys


def test_join_keys_with_equality_columns() -> None:
    shape = shape_of("SELECT s.id FROM shipment s JOIN sales_order o ON o.id = s.sales_order_id "
                     "WHERE s.status = 'posted'")
    keys = _keys(for_shape(shape, catalog()), "shipment")
    assert (("sales_order_id", False), ("status", False)) in keys
    assert (("status", False), ("sales_order_id", False)) in keys


def test_covering_candidate_includes_the_other_referenced_columns() -> None:
    shape = shape_of("SELECT id, net_amount FROM sales_order WHERE customer_id = $1")
    found = for_shape(shape, catalog())
    assert Candidate("sales_order", (("customer_id", False),), ("id", "net_amount")) in found


def test_no_covering_candidate_for_star_or_writes() -> None:
    star = for_shape(shape_of("SELECT * FROM sales_order WHERE customer_id = 1"), catalog())
    update = for_shape(shape_of("UPDATE sales_order SET status = 'x' WHERE customer_id = 1"), catalog())
    assert not any(c.include for c in star | update)


def test_existing_index_covering_exactly_or_by_prefix_removes_candidates() -> None:
    shape = shape_of("SELECT * FROM sales_order WHERE status = $1 ORDER BY order_date DESC")
    existing = index("ix_so_status_date", "sales_order", ["status", "order_date", "id"])
    keys = _keys(for_shape(shape, catalog([existing])))
    assert (("status", False),) not in keys
    assert (("status", False), ("order_date", False)) not in keys
    assert (("order_date", False),) in keys


def test_invalid_partial_or_other_direction_indexes_do_not_cover() -> None:
    cand = Candidate("sales_order", (("status", False), ("order_date", False)))
    assert not existing_covers(index("a", "sales_order", ["status", "order_date"], valid=False), cand)
    assert not existing_covers(index("b", "sales_order", ["status", "order_date"], partial=True), cand)
    assert not existing_covers(index("c", "sales_order", ["status", ("order_date", True)]), cand)
    assert existing_covers(index("d", "sales_order", [("status", True), ("order_date", True)]), cand)


def test_covers_needs_the_included_columns() -> None:
    wide = Candidate("t", (("a", False), ("b", False)), ("c",))
    assert wide.covers(Candidate("t", (("a", False),), ("b",)))
    assert wide.covers(Candidate("t", (("a", False),), ("c",)))
    assert not wide.covers(Candidate("t", (("a", False),), ("d",)))
    assert not wide.covers(Candidate("u", (("a", False),)))
    assert not Candidate("t", (("a", False),)).covers(wide)
    assert covered_by_any(Candidate("t", (("a", False),)), [wide])
    assert not covered_by_any(wide, [wide])


def test_unknown_tables_and_columns_give_no_candidates() -> None:
    assert for_shape(shape_of("SELECT 1 FROM nowhere WHERE a = 1"), catalog()) == set()
    assert _keys(for_shape(shape_of("SELECT 1 FROM sales_order WHERE nope = 1"), catalog())) == set()


def test_ddl_names_and_quotes() -> None:
    cand = Candidate("sales_order", (("status", False), ("order_date", True)), ("net_amount",))
    assert cand.ddl() == ("CREATE INDEX CONCURRENTLY ix_sales_order_status_order_date_incl ON sales_order "
                          "(status, order_date DESC) INCLUDE (net_amount)")
    assert Candidate("t", (("Mixed", False),)).hypothetical_ddl() == 'CREATE INDEX ON t ("Mixed")'
    long = Candidate("a_rather_long_table_name_for_testing", tuple((f"column_number_{i}", False) for i in range(4)))
    assert len(long.name) <= 63 and long.name != Candidate("a_rather_long_table_name_for_testing",
                                                           long.keys[:3]).name


def test_equality_columns_in_another_order_are_served_by_an_existing_index() -> None:
    shape = shape_of("SELECT * FROM sales_order WHERE status = $1 AND customer_id = $2 ORDER BY order_date")
    have = index("ix_have", "sales_order", ["customer_id", "status", "order_date"])
    keys = _keys(for_shape(shape, catalog([have])))
    assert (("status", False), ("customer_id", False)) not in keys
    assert (("status", False), ("customer_id", False), ("order_date", False)) not in keys
    # a sort or range column is not an equality column: its place in the key matters
    sort_first = index("ix_date_status", "sales_order", ["order_date", "status"])
    cand = Candidate("sales_order", (("status", False), ("order_date", False)))
    assert not existing_serves(sort_first, cand, {"status"})
    assert existing_serves(sort_first, cand, {"status", "order_date"})


def test_schema_qualified_tables_keep_their_schema_in_the_statement_and_not_in_the_name() -> None:
    cand = Candidate("sales.orders", (("status", False),))
    assert cand.name == "ix_orders_status"
    assert cand.ddl() == "CREATE INDEX CONCURRENTLY ix_orders_status ON sales.orders (status)"


def test_at_most_four_key_columns() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE status = $1 AND customer_id = $2 AND number = $3 "
                     "AND order_date > $4 ORDER BY net_amount, id")
    assert all(len(c.keys) <= 4 for c in for_shape(shape, catalog()))
