"""Unused, duplicate and invalid indexes on a real catalog; apply and undo; --verify measures."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import psycopg
import pytest

from advisor.analyze import analyze, connect
from advisor.apply import apply_plan, read_plan, undo
from advisor.catalog import read_catalog
from advisor.errors import AdvisorUsageError
from advisor.health import report
from advisor.verify import verify
from advisor.workload import read_file
from opskit.output import to_jsonable

pytestmark = pytest.mark.pg

SMALL = """
CREATE TABLE party (id bigint PRIMARY KEY, code text UNIQUE, kind text, city text);
CREATE TABLE deal (id bigint PRIMARY KEY, party_id bigint REFERENCES party(id), stage text, amount int);
INSERT INTO party SELECT g, 'P' || g, (ARRAY['a', 'b'])[1 + g % 2], 'c' || (g % 50) FROM generate_series(1, 2000) g;
INSERT INTO deal SELECT g, 1 + g % 2000, 's' || (g % 7), g FROM generate_series(1, 20000) g;
CREATE INDEX ix_deal_party ON deal (party_id);
CREATE INDEX ix_deal_stage ON deal (stage);
CREATE INDEX ix_deal_stage_copy ON deal (stage);
CREATE INDEX ix_party_city ON party (city);
CREATE INDEX ix_party_city_kind ON party (city, kind);
CREATE INDEX ix_deal_amount ON deal (amount);
ANALYZE;
"""


def test_unused_duplicate_prefix_and_invalid_indexes(database: str) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
        conn.execute("SET enable_seqscan = off")
        conn.execute("SELECT * FROM deal WHERE amount = 5").fetchall()  # ix_deal_amount is used
        conn.execute("SET enable_sort = off")
        conn.execute("SELECT * FROM party ORDER BY city, kind LIMIT 5").fetchall()  # ix_party_city_kind is used
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY ix_deal_stage_unique ON deal (stage)")
        conn.execute("SELECT pg_stat_force_next_flush()")
    with psycopg.connect(database) as conn:
        found = report(read_catalog(conn))
    kinds = {f.index: f.kind for f in found.findings}
    assert kinds == {"ix_deal_stage_unique": "invalid", "ix_deal_stage_copy": "duplicate",
                     "ix_party_city": "prefix", "ix_deal_stage": "unused"}
    kept = dict(found.kept)
    assert kept["ix_deal_party"] == "supports the foreign key (party_id)"
    assert kept["party_code_key"] == "enforces uniqueness" and kept["deal_pkey"] == "primary key"
    assert "ix_deal_amount" not in kinds and "ix_party_city_kind" not in kinds
    assert next(f for f in found.findings if f.index == "ix_party_city").kept == "ix_party_city_kind"
    assert json.dumps(to_jsonable(found.to_json()))


PLAN_WORKLOAD = "-- calls: 100\nSELECT id FROM deal WHERE stage = $1 AND amount > $2 ORDER BY amount LIMIT 10;\n"


def _plan(database: str, tmp_path: Path) -> Path:
    (tmp_path / "w.sql").write_text(PLAN_WORKLOAD)
    with connect(database) as conn:
        conn.execute("DROP INDEX IF EXISTS ix_deal_amount")
        result = analyze(conn, read_file(tmp_path / "w.sql"))
    assert result.recommendations
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(to_jsonable(result.to_json())))
    return path


def test_apply_records_and_undo_drops_exactly_that(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
    plan = read_plan(_plan(database, tmp_path), [])
    name = plan[0][0]
    with connect(database) as conn:
        applied = apply_plan(conn, plan, "5s")
        assert [(c.index, c.action) for c in applied.changes] == [(name, "created")]
        valid = conn.execute("SELECT x.indisvalid FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid "
                             "WHERE c.relname = %s", (name,)).fetchone()
        assert valid == (True,)
        again = apply_plan(conn, plan, "5s")
        assert again.changes[0].action == "exists" and again.batch == applied.batch + 1
        with pytest.raises(AdvisorUsageError, match="drops only what it created"):
            undo(conn, ["ix_deal_stage"], "5s")
        undone = undo(conn, [], "5s")
        assert undone.batch == applied.batch and [c.action for c in undone.changes] == ["dropped"]
        assert conn.execute("SELECT 1 FROM pg_class WHERE relname = %s", (name,)).fetchone() is None
        ledger = conn.execute("SELECT index_name, undone_at IS NOT NULL FROM advisor_applied").fetchall()
        assert ledger == [(name, True)]
        assert undo(conn, [], "5s").changes == []


def test_a_lock_timeout_fails_the_index_and_leaves_nothing_invalid(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
    plan = read_plan(_plan(database, tmp_path), [])
    holder = psycopg.connect(database)
    holder.execute("UPDATE deal SET amount = amount WHERE id = 1")  # a writer CREATE INDEX CONCURRENTLY waits for
    done = threading.Timer(20, holder.cancel)
    done.start()
    try:
        with connect(database) as conn:
            result = apply_plan(conn, plan, "300ms")
    finally:
        done.cancel()
        holder.close()
    assert result.exit_code == 1
    change = result.changes[0]
    assert change.action == "failed" and change.reason.startswith("canceling statement due to lock timeout")
    # the writer still held its lock, so the drop of the leftover timed out too: the reason says what to run
    assert f"run `DROP INDEX CONCURRENTLY IF EXISTS {change.index}` when the table is quiet" in change.reason
    with connect(database) as conn:
        found = report(read_catalog(conn))
        assert [(f.index, f.kind) for f in found.findings if f.kind == "invalid"] == [(change.index, "invalid")]
        assert conn.execute("SELECT count(*) FROM advisor_applied").fetchone() == (0,)


def test_verify_builds_on_a_scratch_copy_and_measures(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
        conn.execute("DROP INDEX ix_deal_amount")
    (tmp_path / "w.sql").write_text("-- calls: 50\nSELECT id, amount FROM deal WHERE party_id = $1 AND stage = $2;\n"
                                    "-- calls: 50\nSELECT * FROM deal WHERE amount BETWEEN $1 AND $2;\n")
    with connect(database) as conn:
        result = analyze(conn, read_file(tmp_path / "w.sql"))
        checked = verify(conn, result)
        schemas = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'advisor_scratch%'").fetchone()
        path = conn.execute("SHOW search_path").fetchone()[0]
    assert schemas == (0,) and path == '"$user", public'
    amount = next(c for c in checked.indexes if c.index.startswith("ix_deal_amount"))
    assert amount.measured_speedup > 2 and amount.real_bytes > 0
    assert amount.estimated_speedup > 2
    assert checked.timings_ms and all(before > 0 for before, _ in checked.timings_ms.values())
    assert "measured 1 statement(s)" in checked.reason or "measured 2 statement(s)" in checked.reason


def test_an_interrupted_verify_leaves_no_scratch_schema(database: str, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from advisor import verify as verify_module

    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
        conn.execute("DROP INDEX ix_deal_amount")
    (tmp_path / "w.sql").write_text("-- calls: 50\nSELECT * FROM deal WHERE amount BETWEEN $1 AND $2;\n")
    calls = []

    def interrupted(conn: object, prepared: object) -> float:
        calls.append(1)
        if len(calls) > 1:
            raise KeyboardInterrupt  # what SIGINT raises; opskit turns SIGTERM into an unwinding exception too
        return 1.0

    monkeypatch.setattr(verify_module, "_measure", interrupted)
    with connect(database) as conn:
        result = analyze(conn, read_file(tmp_path / "w.sql"))
        with pytest.raises(KeyboardInterrupt):
            verify(conn, result)
    with psycopg.connect(database) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'advisor_scratch%'").fetchone()
    assert left == (0,) and len(calls) == 2


def test_verify_concurrently_builds_on_the_real_tables_and_drops_after(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
        conn.execute("DROP INDEX ix_deal_amount")
    (tmp_path / "w.sql").write_text("-- calls: 50\nSELECT * FROM deal WHERE amount BETWEEN $1 AND $2;\n")
    with connect(database) as conn:
        result = analyze(conn, read_file(tmp_path / "w.sql"))
        checked = verify(conn, result, concurrently=True)
        names = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'deal'").fetchall()}
    assert checked.where.startswith("the real tables")
    [check] = checked.indexes
    assert check.real_bytes > 0 and check.measured_speedup > 2
    assert check.index not in names  # built for the measurement, dropped after


def test_apply_only_one_and_undo_it_by_name(database: str, tmp_path: Path) -> None:
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(SMALL)
        conn.execute("DROP INDEX ix_deal_amount")
    (tmp_path / "w.sql").write_text("-- calls: 50\nSELECT * FROM deal WHERE amount BETWEEN $1 AND $2;\n"
                                    "-- calls: 50\nSELECT id FROM party WHERE kind = $1 AND city = $2 AND id > $3;\n")
    with connect(database) as conn:
        result = analyze(conn, read_file(tmp_path / "w.sql"))
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(to_jsonable(result.to_json())))
    names = [r.name for r in result.recommendations]
    assert len(names) >= 1
    chosen = read_plan(path, [names[0]])
    with connect(database) as conn:
        applied = apply_plan(conn, chosen, "5s")
        assert [c.index for c in applied.changes] == [names[0]]
        undone = undo(conn, [names[0]], "5s")
        assert [(c.index, c.action) for c in undone.changes] == [(names[0], "dropped")]
        with pytest.raises(AdvisorUsageError, match="undone already"):
            undo(conn, [names[0]], "5s")
