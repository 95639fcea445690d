"""From pg_stat_statements to recommendations, on a cluster that preloads it (the natural flow)."""

from __future__ import annotations

import json

import psycopg
import pytest

from advisor.analyze import analyze, connect
from advisor.errors import AdvisorUnavailable
from advisor.workload import read_stat_statements
from erpops.cli import main

pytestmark = [pytest.mark.pg, pytest.mark.cluster]

SCHEMA = """
CREATE EXTENSION pg_stat_statements;
CREATE TABLE item (id bigint PRIMARY KEY, sku text NOT NULL, family text NOT NULL, price numeric NOT NULL);
INSERT INTO item SELECT g, 'SKU' || g, 'f' || (g % 40), g % 100 FROM generate_series(1, 60000) g;
ANALYZE item;
"""


def _workload(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
        # psycopg sends 5 as int2, 70000 as int4 and 5e9 as int8: one query, three queryids
        for value in (5, 70000, 5_000_000_000, 6, 7):
            conn.execute("SELECT id, price FROM item WHERE sku = %s OR id = %s", (f"SKU{value}", value))
            conn.execute("SELECT * FROM item WHERE family = %s ORDER BY price DESC LIMIT %s", ("f3", 10))


def test_one_query_split_by_parameter_types_is_one_statement(stat_cluster: str) -> None:
    with psycopg.connect(stat_cluster, autocommit=True) as conn:
        conn.execute(SCHEMA)
    _workload(stat_cluster)
    with connect(stat_cluster) as conn:
        queryids = conn.execute("SELECT count(*) FROM pg_stat_statements WHERE query LIKE "
                                "'SELECT id, price FROM item%'").fetchone()[0]
        statements = read_stat_statements(conn)
        report = analyze(conn, statements)
    assert queryids >= 2  # the split this grouping exists for
    mine = [s for s in statements if s.text.startswith("SELECT id, price FROM item")]
    assert len(mine) == 1 and mine[0].calls == 5 and mine[0].sources == queryids
    assert not any("pg_stat_statements" in s.text for s in statements)
    recs = {tuple(r.columns[:2]) for r in report.recommendations}
    assert ("family", "price") in recs, recs


def test_the_cli_reads_pg_stat_statements_by_default(stat_cluster: str, capsys: pytest.CaptureFixture[str]) -> None:
    with psycopg.connect(stat_cluster, autocommit=True) as conn:
        conn.execute(SCHEMA)
    _workload(stat_cluster)
    with pytest.raises(SystemExit) as done:
        main(["advisor", "analyze", "--database-url", stat_cluster, "--json", "-q"])
    assert done.value.code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["recommendations"][0]["table"] == "item"
    assert report["recommendations"][0]["create"].startswith("CREATE INDEX CONCURRENTLY ix_item_family")


def test_without_the_extension_the_error_says_what_to_do(stat_cluster: str) -> None:
    with connect(stat_cluster) as conn, pytest.raises(AdvisorUnavailable, match="CREATE EXTENSION pg_stat_statements"):
        read_stat_statements(conn)
