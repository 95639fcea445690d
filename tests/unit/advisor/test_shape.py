"""What a statement asks of its tables, read from the parse tree."""

from __future__ import annotations

import pytest

from advisor.errors import AdvisorUsageError
from advisor.shape import LIMIT, OFFSET, shape_of

COLUMNS = {
    "sales_order": {"id", "customer_id", "status", "order_date", "net_amount"},
    "customer": {"id", "name", "code"},
    "shipment": {"id", "sales_order_id", "ship_date"},
}


def test_equality_range_order_and_parameters_of_one_table() -> None:
    shape = shape_of("SELECT id, net_amount FROM sales_order WHERE status = $1 AND order_date >= $2 "
                     "ORDER BY order_date DESC, id DESC LIMIT $3 OFFSET $4")
    use = shape.tables["sales_order"]
    assert use.eq == ["status"]
    assert use.ranges == ["order_date"]
    assert use.order == [("order_date", True), ("id", True)]
    assert use.columns == {"id", "net_amount", "status", "order_date"}
    assert shape.params == {1: ("sales_order", "status"), 2: ("sales_order", "order_date"), 3: ("", LIMIT),
                            4: ("", OFFSET)}
    assert shape.range_params == {2}
    assert shape.param_count == 4
    assert shape.kind == "select"


def test_join_keys_on_both_sides_and_aliases() -> None:
    shape = shape_of("SELECT c.name FROM sales_order o JOIN customer c ON c.id = o.customer_id WHERE o.status = 'x'")
    assert shape.tables["customer"].joins == ["id"]
    assert shape.tables["sales_order"].joins == ["customer_id"]
    assert shape.tables["sales_order"].eq == ["status"]
    assert shape.params == {}


def test_unqualified_columns_in_a_join_resolve_through_the_catalog() -> None:
    shape = shape_of("SELECT name FROM sales_order JOIN customer ON customer.id = customer_id WHERE status = $1",
                     lambda t: COLUMNS.get(t))
    assert shape.tables["sales_order"].eq == ["status"]
    assert shape.tables["sales_order"].joins == ["customer_id"]
    assert "name" in shape.tables["customer"].columns


def test_ambiguous_unqualified_columns_are_not_guessed() -> None:
    shape = shape_of("SELECT 1 FROM sales_order, customer WHERE id = 5")
    assert shape.tables["sales_order"].eq == [] and shape.tables["customer"].eq == []


def test_in_any_between_and_is_null() -> None:
    shape = shape_of("SELECT * FROM sales_order WHERE customer_id IN (1, 2) AND status = ANY($1) "
                     "AND order_date BETWEEN $2 AND $3 AND net_amount IS NULL")
    use = shape.tables["sales_order"]
    assert use.eq == ["customer_id", "status", "net_amount"]
    assert use.ranges == ["order_date"]
    assert use.star
    assert shape.array_params == {1}
    assert shape.range_params == {2, 3}


def test_casts_are_looked_through_and_constants_on_the_left_flip_the_operator() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE order_date::date = $1 AND 100 < net_amount")
    use = shape.tables["sales_order"]
    assert use.eq == ["order_date"]
    assert use.ranges == ["net_amount"]


def test_or_branches_and_inequality_are_not_index_keys() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE (status = 'a' OR customer_id = 2) AND order_date <> $1")
    use = shape.tables["sales_order"]
    assert use.eq == [] and use.ranges == []
    assert {"status", "customer_id", "order_date"} <= use.columns


def test_correlated_subquery_makes_a_join_key_of_the_inner_table() -> None:
    shape = shape_of("SELECT o.id FROM sales_order o WHERE EXISTS "
                     "(SELECT 1 FROM shipment s WHERE s.sales_order_id = o.id) AND o.customer_id = 7")
    assert shape.tables["shipment"].joins == ["sales_order_id"]
    assert shape.tables["sales_order"].eq == ["customer_id"]


def test_cte_names_are_not_tables_and_their_bodies_are_read() -> None:
    shape = shape_of("WITH recent AS (SELECT id FROM sales_order WHERE order_date > $1) "
                     "SELECT * FROM recent r JOIN shipment s ON s.sales_order_id = r.id")
    assert set(shape.tables) == {"sales_order", "shipment"}
    assert shape.tables["sales_order"].ranges == ["order_date"]
    assert shape.tables["shipment"].joins == ["sales_order_id"]


def test_union_reads_both_arms() -> None:
    shape = shape_of("SELECT id FROM sales_order WHERE status = 'a' UNION ALL SELECT id FROM shipment "
                     "WHERE ship_date > now()")
    assert shape.tables["sales_order"].eq == ["status"]
    assert shape.tables["shipment"].ranges == ["ship_date"]


def test_update_delete_and_insert_record_their_writes() -> None:
    update = shape_of("UPDATE sales_order SET status = $1 WHERE id = $2")
    assert update.kind == "update" and update.writes == {"sales_order"}
    assert update.tables["sales_order"].eq == ["id"]
    assert update.params[2] == ("sales_order", "id")
    delete = shape_of("DELETE FROM shipment WHERE sales_order_id = 3")
    assert delete.kind == "delete" and delete.tables["shipment"].eq == ["sales_order_id"]
    insert = shape_of("INSERT INTO shipment (sales_order_id) SELECT id FROM sales_order WHERE status = 'x'")
    assert insert.kind == "insert" and insert.writes == {"shipment"}
    assert insert.tables["sales_order"].eq == ["status"]


def test_order_by_an_expression_or_another_table_stops_the_sort_keys() -> None:
    shape = shape_of("SELECT * FROM sales_order o JOIN customer c ON c.id = o.customer_id "
                     "ORDER BY o.order_date, c.name")
    assert shape.tables["sales_order"].order == [("order_date", False)]
    assert shape_of("SELECT * FROM sales_order ORDER BY lower(status)").tables["sales_order"].order == []


def test_schema_qualified_names_are_canonicalized() -> None:
    shape = shape_of("SELECT id FROM public.sales_order WHERE status = 'a'",
                     canonical=lambda t: t.rsplit(".", 1)[-1])
    assert set(shape.tables) == {"sales_order"}


def test_star_of_one_alias_marks_only_that_table() -> None:
    shape = shape_of("SELECT o.* FROM sales_order o JOIN customer c ON c.id = o.customer_id")
    assert shape.tables["sales_order"].star and not shape.tables["customer"].star


def test_indexable_columns_include_the_first_sort_key() -> None:
    use = shape_of("SELECT id FROM sales_order WHERE status = 'a' ORDER BY order_date, id").tables["sales_order"]
    assert use.indexable() == {"status", "order_date"}


@pytest.mark.parametrize("sql", ["SELEC 1", "SELECT 1; SELECT 2"])
def test_bad_or_several_statements_are_usage_errors(sql: str) -> None:
    with pytest.raises(AdvisorUsageError):
        shape_of(sql)


def test_functions_lateral_subqueries_and_values_do_not_confuse_the_tables() -> None:
    shape = shape_of("SELECT * FROM generate_series(1, 3) g JOIN sales_order o ON o.id = g "
                     "JOIN LATERAL (SELECT s.id FROM shipment s WHERE s.sales_order_id = o.id LIMIT 1) x ON true")
    assert set(shape.tables) == {"sales_order", "shipment"}
    assert shape.tables["shipment"].joins == ["sales_order_id"]
    assert shape_of("INSERT INTO shipment (sales_order_id) VALUES ($1)").tables == {}


def test_params_compared_with_expressions_of_columns_are_not_mapped() -> None:
    shape = shape_of("SELECT * FROM sales_order WHERE net_amount * 2 > $1 AND lower(status) = $2")
    assert shape.params == {} and shape.tables["sales_order"].ranges == []
