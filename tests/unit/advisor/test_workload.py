"""Reading and grouping the workload."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import AdvisorUsageError
from advisor.workload import Statement, group, read_file, read_log, relevant


def test_statement_file_with_call_weights_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "w.sql"
    path.write_text("-- calls: 40\nSELECT * FROM t WHERE a = 1;\n/* a note */ select * from t where a = 2;\n"
                    "SET work_mem = '1MB';\n-- calls=5\nUPDATE t SET b = 1 WHERE a = $1;\n")
    stmts = read_file(path)
    assert [(s.calls, s.sources) for s in stmts] == [(41, 2), (5, 1)]
    assert stmts[0].text == "SELECT * FROM t WHERE a = 1"
    assert not any("SET work_mem" in s.text for s in stmts)


def test_grouping_merges_one_query_split_by_parameter_types() -> None:
    # pg_stat_statements keeps one entry per queryid; psycopg's int2/int4/int8 give one query three queryids
    rows = [Statement("SELECT * FROM t WHERE id = $1", 10, 1.0), Statement("SELECT * FROM t WHERE id = $1", 3, 0.5),
            Statement("select *  from t where id=$1", 2, 0.5), Statement("SELECT * FROM u WHERE id = $1", 1, 9.0)]
    merged = group(rows)
    assert [(s.calls, s.sources, s.total_ms) for s in merged] == [(15, 3, 2.0), (1, 1, 9.0)]


def test_catalog_utility_and_own_statements_are_not_workload() -> None:
    assert relevant("select * from sales_order where id = $1")
    assert relevant("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not relevant("SELECT * FROM pg_stat_statements")
    assert not relevant("select hypopg_create_index($1)")
    assert not relevant("INSERT INTO advisor_applied (batch) VALUES ($1)")
    assert not relevant("BEGIN")
    assert not relevant("   ")


def test_log_lines_with_parameters_become_samples(tmp_path: Path) -> None:
    log = tmp_path / "pg.log"
    log.write_text(
        "2026-12-03 04:00:00 UTC [11] LOG:  duration: 0.512 ms  execute <unnamed>: SELECT * FROM t\n"
        "\tWHERE a = $1 AND b = $2\n"
        "2026-12-03 04:00:00 UTC [11] DETAIL:  parameters: $1 = '5', $2 = 'it''s'\n"
        "2026-12-03 04:00:01 UTC [11] LOG:  duration: 0.488 ms  execute <unnamed>: SELECT * FROM t WHERE a = $1 "
        "AND b = $2\n"
        "2026-12-03 04:00:01 UTC [11] DETAIL:  parameters: $1 = '6', $2 = NULL\n"
        "2026-12-03 04:00:02 UTC [11] LOG:  duration: 2.000 ms  statement: UPDATE t SET b = 'x' WHERE a = 1\n"
        "2026-12-03 04:00:03 UTC [11] LOG:  checkpoint starting: time\n")
    stmts = read_log(log)
    select = next(s for s in stmts if s.text.startswith("SELECT"))
    assert select.calls == 2 and select.total_ms == pytest.approx(1.0)
    assert select.samples == [["5", "it's"], ["6", None]]
    assert any(s.text.startswith("UPDATE") for s in stmts)


def test_unreadable_or_empty_inputs_are_usage_errors(tmp_path: Path) -> None:
    with pytest.raises(AdvisorUsageError, match="cannot read workload file"):
        read_file(tmp_path / "missing.sql")
    binary = tmp_path / "bin.sql"
    binary.write_bytes(b"\xff\xfe\x00select")
    with pytest.raises(AdvisorUsageError):
        read_file(binary)
    (tmp_path / "empty.log").write_text("nothing here\n")
    with pytest.raises(AdvisorUsageError, match="no statements"):
        read_log(tmp_path / "empty.log")
    with pytest.raises(AdvisorUsageError, match="cannot read log"):
        read_log(tmp_path / "nope.log")


def test_grouping_keeps_at_most_eight_parameter_samples() -> None:
    stmts = [Statement("SELECT * FROM t WHERE a = $1", samples=[[str(i)]]) for i in range(20)]
    [merged] = group(stmts)
    assert merged.calls == 20 and len(merged.samples) == 8


def test_labels_are_one_line_and_short() -> None:
    stmt = Statement("SELECT *\n  FROM t\n WHERE a = 1 " + "AND b = 2 " * 30)
    assert "\n" not in stmt.label and len(stmt.label) == 120
