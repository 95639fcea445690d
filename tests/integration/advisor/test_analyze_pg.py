"""The advisor on PostgreSQL with hypopg: the indexes a workload misses, and nothing redundant."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from advisor.analyze import Options, analyze, connect
from advisor.candidates import existing_covers
from advisor.catalog import read_catalog
from advisor.errors import AdvisorUnavailable, AdvisorUsageError
from advisor.selection import Budget
from advisor.workload import Statement, read_file

pytestmark = pytest.mark.pg

WORKLOAD = """
-- calls: 500
SELECT id, amount FROM orders WHERE status = $1 ORDER BY order_date DESC LIMIT $2;
-- calls: 300
SELECT o.id, o.amount FROM orders o JOIN customer c ON c.id = o.customer_id WHERE c.name = $1;
-- calls: 40
SELECT c.region, sum(o.amount) FROM orders o JOIN customer c ON c.id = o.customer_id
WHERE o.customer_id = $1 GROUP BY c.region;
-- calls: 200
SELECT * FROM customer WHERE code = $1;
-- calls: 100
UPDATE orders SET status = 'closed' WHERE id = $1;
SELECT * FROM no_such_table WHERE x = 1;
SELECT $1;
"""


def _run(url: str, text: str, tmp_path: Path, **budget: object) -> object:
    path = tmp_path / "workload.sql"
    path.write_text(text)
    with connect(url) as conn:
        return analyze(conn, read_file(path), Options(Budget(**budget)))  # type: ignore[arg-type]


def test_finds_the_missing_indexes_sort_aware_and_nothing_redundant(orders_db: str, tmp_path: Path) -> None:
    report = _run(orders_db, WORKLOAD, tmp_path)
    recs = {tuple(r.columns): r for r in report.recommendations}  # type: ignore[attr-defined]
    assert any(cols[:2] == ("status", "order_date") for cols in recs), recs.keys()
    assert {r.table for r in report.recommendations} == {"orders", "customer"}  # type: ignore[attr-defined]
    assert any(r.table == "customer" and r.columns[0] == "name" for r in report.recommendations)  # type: ignore[attr-defined]
    # customer_id is served by (customer_id, id), code by its unique index, id by the key
    assert not any(cols[0] in ("customer_id", "code", "id") for cols in recs), recs.keys()
    chosen = [r.candidate for r in report.recommendations]  # type: ignore[attr-defined]
    assert not any(a != b and a.covers(b) for a in chosen for b in chosen)
    with psycopg.connect(orders_db) as conn:
        catalog = read_catalog(conn)
    assert not any(existing_covers(i, c) for i in catalog.indexes for c in chosen)
    assert report.cost_after < report.cost_before * 0.2  # type: ignore[attr-defined]


def test_each_recommendation_explains_itself(orders_db: str, tmp_path: Path) -> None:
    report = _run(orders_db, WORKLOAD, tmp_path)
    sort_aware = next(r for r in report.recommendations if r.columns[:2] == ["status", "order_date"])  # type: ignore[attr-defined]
    assert sort_aware.create.startswith(f"CREATE INDEX CONCURRENTLY {sort_aware.name} ON orders (status, order_date")
    assert sort_aware.queries[0].calls == 500
    assert sort_aware.workload_write_calls == 100
    assert sort_aware.estimated_bytes > 0
    assert "helps 1 statement(s) (500 calls)" in sort_aware.reason
    query = sort_aware.queries[0]
    # the generic plan prices LIMIT $n as a tenth of the rows; the sampled values price LIMIT 20
    assert query.cost_after < query.generic_after / 5
    assert query.cost_after < query.cost_before / 50


def test_unexplainable_statements_are_reported_not_fatal(orders_db: str, tmp_path: Path) -> None:
    report = _run(orders_db, WORKLOAD, tmp_path)
    skipped = {s.statement: s.reason for s in report.skipped}  # type: ignore[attr-defined]
    assert skipped == {"SELECT * FROM no_such_table WHERE x = 1": 'relation "no_such_table" does not exist'}
    assert report.explained == 6  # type: ignore[attr-defined]
    generic = {s.statement: s.reason for s in report.generic_only}  # type: ignore[attr-defined]
    assert generic == {"SELECT $1": "no column for $1: priced by the generic plan only"}


def test_an_existing_index_that_covers_the_need_means_no_recommendation(orders_db: str, tmp_path: Path) -> None:
    with psycopg.connect(orders_db, autocommit=True) as conn:
        conn.execute("CREATE INDEX ix_have ON orders (customer_id, status, order_date)")
    try:
        report = _run(orders_db, "-- calls: 100\nSELECT * FROM orders WHERE customer_id = $1 AND status = $2;\n"
                                 "-- calls: 100\nSELECT * FROM orders WHERE customer_id = $1 AND status = $3 "
                                 "AND order_date > $2;\n", tmp_path)
    finally:
        with psycopg.connect(orders_db, autocommit=True) as conn:
            conn.execute("DROP INDEX ix_have")
    assert report.recommendations == []  # type: ignore[attr-defined]
    assert "0 index(es)" in report.reason  # type: ignore[attr-defined]


def test_budget_of_one_index_keeps_the_most_valuable(orders_db: str, tmp_path: Path) -> None:
    report = _run(orders_db, WORKLOAD, tmp_path, max_indexes=1)
    assert len(report.recommendations) == 1  # type: ignore[attr-defined]
    full = _run(orders_db, WORKLOAD, tmp_path)
    best = max(full.recommendations, key=lambda r: r.benefit)  # type: ignore[attr-defined]
    assert report.recommendations[0].benefit >= best.benefit * 0.99  # type: ignore[attr-defined]


def test_minimum_benefit_drops_indexes_that_save_little(orders_db: str, tmp_path: Path) -> None:
    heavy = "-- calls: 10000\nSELECT * FROM orders WHERE customer_id = $1 AND status = $2;\n"
    light = "-- calls: 1\nSELECT * FROM customer WHERE region = $1 ORDER BY name LIMIT 5;\n"
    report = _run(orders_db, heavy + light, tmp_path, min_benefit=0.05)
    assert {r.table for r in report.recommendations} == {"orders"}  # type: ignore[attr-defined]


def test_log_parameters_are_the_representative_values(orders_db: str) -> None:
    stmt = Statement("SELECT id FROM orders WHERE status = $1 ORDER BY order_date DESC LIMIT $2", calls=10,
                     samples=[["draft", "5"]])
    with connect(orders_db) as conn:
        report = analyze(conn, [stmt])
    assert report.generic_only == []
    assert report.recommendations[0].queries[0].cost_after < report.recommendations[0].queries[0].generic_after


def test_no_hypopg_is_one_unavailable_error(orders_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import planner

    def refuse(self: object) -> None:
        raise AdvisorUnavailable("hypopg is not available on this server: install it")

    monkeypatch.setattr(planner.Planner, "start", refuse)
    with connect(orders_db) as conn, pytest.raises(AdvisorUnavailable, match="hypopg"):
        analyze(conn, [Statement("SELECT 1 FROM orders")])


def test_hypopg_missing_from_the_server_names_the_package(orders_db: str) -> None:
    from advisor.planner import Planner

    class NoExtension:
        def execute(self, sql: str, *args: object) -> object:
            raise psycopg.errors.UndefinedFile('could not open extension control file "hypopg.control"')

    with pytest.raises(AdvisorUnavailable, match="postgresql-15-hypopg"):
        Planner(NoExtension()).start()


def test_urls_of_other_engines_and_dead_servers(tmp_path: Path) -> None:
    with pytest.raises(AdvisorUsageError, match="needs a PostgreSQL URL, not mysql"):
        connect("mysql://localhost/x")
    with pytest.raises(AdvisorUnavailable, match="cannot connect"):
        connect("postgresql://postgres@127.0.0.1:1/none")
