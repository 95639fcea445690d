"""A PostgreSQL log as the workload: statements with their durations, and their parameters as sample values."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from advisor.analyze import analyze, connect
from advisor.workload import read_log
from erpops.cli import main

pytestmark = [pytest.mark.pg, pytest.mark.cluster]

SCHEMA = """
CREATE TABLE ticket (id bigint PRIMARY KEY, queue text NOT NULL, opened date NOT NULL, title text);
INSERT INTO ticket SELECT g, (ARRAY['sales', 'support', 'billing', 'ops'])[1 + g % 4],
       date '2024-01-01' + g % 700, 't' || g FROM generate_series(1, 40000) g;
ANALYZE ticket;
"""


def _traffic(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SCHEMA)
        for queue in ("billing", "ops", "billing"):
            conn.execute("SELECT id, title FROM ticket WHERE queue = %s ORDER BY opened DESC LIMIT %s", (queue, 15))
        conn.execute("SELECT count(*) FROM ticket WHERE id = %s", (5,))


def test_a_real_log_gives_statements_durations_and_parameter_values(log_cluster: tuple[str, Path]) -> None:
    url, log = log_cluster
    _traffic(url)
    statements = read_log(log)
    listing = next(s for s in statements if "ORDER BY opened" in s.text)
    assert listing.calls == 3 and listing.total_ms > 0
    assert listing.samples == [["billing", "15"], ["ops", "15"], ["billing", "15"]]
    assert not any("pg_catalog" in s.text or s.text.startswith("CREATE") for s in statements)
    with connect(url) as conn:
        report = analyze(conn, statements)
    assert report.generic_only == []  # the log's values priced the custom plans
    rec = report.recommendations[0]
    assert rec.columns[:2] == ["queue", "opened"]
    assert rec.queries[0].cost_after < rec.queries[0].generic_after


def test_the_cli_reads_a_log_file(log_cluster: tuple[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    url, log = log_cluster
    _traffic(url)
    with pytest.raises(SystemExit) as done:
        main(["advisor", "analyze", "--log", str(log), "--database-url", url, "--json", "-q"])
    assert done.value.code == 0
    out = json.loads(capsys.readouterr().out)
    assert out["recommendations"][0]["create"].startswith("CREATE INDEX CONCURRENTLY ix_ticket_queue_opened")
