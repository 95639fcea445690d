"""`erpops advisor` through the root command: the README's commands as written, and one-line errors."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.integration.advisor.conftest import ORDERS, _database

ROOT = Path(__file__).resolve().parents[3]
WORKLOAD = ("-- calls: 300\nSELECT id, amount FROM orders WHERE status = $1 ORDER BY order_date DESC LIMIT $2;\n"
            "-- calls: 100\nSELECT o.id FROM orders o JOIN customer c ON c.id = o.customer_id WHERE c.name = $1;\n")


def _erpops(args: list[str], url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, ERPOPS_DATABASE_URL=url, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, "-m", "erpops", *args], capture_output=True, text=True, env=env,
                          cwd=cwd, timeout=300, check=False)


def _readme_lines() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Index advisor.*?```bash\n(.*?)```", text, re.DOTALL)
    assert block is not None, "the README has no advisor section"
    return [line for line in block.group(1).splitlines() if line.startswith(".venv/bin/erpops advisor")]


@pytest.mark.pg
def test_the_readme_commands_run_as_written(tmp_path: Path) -> None:
    lines = _readme_lines()
    assert len(lines) >= 5
    (tmp_path / "workload.sql").write_text(WORKLOAD)
    with _database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ORDERS)
        env = dict(os.environ, ERPOPS_DATABASE_URL=url, PYTHONPATH=str(ROOT))
        outputs = []
        for line in lines:
            command = line.replace(".venv/bin/erpops", f"{sys.executable} -m erpops")
            done = subprocess.run(["bash", "-c", command], capture_output=True, text=True, env=env, cwd=tmp_path,
                                  timeout=300, check=False)
            assert done.returncode == 0, f"{line}: {done.stderr[-500:]}"
            outputs.append(done.stdout)
        assert "CREATE INDEX CONCURRENTLY ix_orders_status_order_date" in outputs[0]
        assert "Verified on a scratch copy" in outputs[1]
        assert '"recommendations"' in (tmp_path / "plan.json").read_text()
        assert "created" in outputs[3] and "dropped" in outputs[4]
        assert "ix_orders_amount_again" in outputs[5] and "duplicate" in outputs[5]
        with psycopg.connect(url) as conn:
            left = conn.execute("SELECT count(*) FROM pg_indexes WHERE indexname LIKE 'ix_orders_status%'").fetchone()
        assert left == (0,)


@pytest.mark.parametrize(("args", "code", "message"), [
    (["advisor", "analyze", "--file", "/nonexistent/w.sql"], 2, "error: cannot read workload file /nonexistent/w.sql"),
    (["advisor", "analyze", "--database-url", "mysql://db/x", "--file", "w.sql"], 2,
     "error: the advisor knows PostgreSQL and SQLite, not mysql"),
    (["advisor", "analyze", "--database-url", "postgresql://postgres@127.0.0.1:1/x", "--file", "w.sql"], 4,
     "error: cannot connect to 127.0.0.1:1/x"),
    (["advisor", "analyze", "--file", "w.sql", "--concurrently"], 2, "error: --concurrently goes with --verify"),
    (["advisor", "apply", "missing.json"], 2, "error: cannot read the plan missing.json"),
    (["advisor", "undo", "--lock-timeout", "soon"], 2, "error: lock_timeout 'soon' is not a duration"),
])
def test_bad_input_is_one_error_line_with_its_code(tmp_path: Path, args: list[str], code: int, message: str) -> None:
    (tmp_path / "w.sql").write_text(WORKLOAD)
    done = _erpops(args, "sqlite:///" + str(tmp_path / "x.sqlite"), tmp_path)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), lines
    assert done.stdout == ""


def test_sqlite_analyze_and_unused_through_the_cli(tmp_path: Path) -> None:
    import sqlite3

    db = tmp_path / "s.sqlite"
    conn = sqlite3.connect(db)
    conn.executescript("CREATE TABLE orders (id INTEGER PRIMARY KEY, status TEXT, order_date TEXT, amount REAL);"
                       "CREATE INDEX ix_a ON orders (amount); CREATE INDEX ix_b ON orders (amount);")
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)",
                     [(i, ("a", "b", "c")[i % 3], f"2024-01-{1 + i % 28:02d}", i) for i in range(1, 3001)])
    conn.commit()
    conn.close()
    (tmp_path / "w.sql").write_text("-- calls: 9\nSELECT * FROM orders WHERE status = $1 ORDER BY order_date;\n")
    url = f"sqlite:///{db}"
    done = _erpops(["advisor", "analyze", "--file", "w.sql", "--json"], url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"index": "orders (status, order_date)"' in done.stdout
    unused = _erpops(["advisor", "unused"], url, tmp_path)
    assert unused.returncode == 0 and "ix_b" in unused.stdout and "no unused report" in unused.stdout
    refused = _erpops(["advisor", "apply", "plan.json"], url, tmp_path)
    assert refused.returncode == 2


@pytest.mark.pg
def test_unused_and_analyze_budgets_as_json_through_the_cli(tmp_path: Path) -> None:
    import json

    (tmp_path / "w.sql").write_text(WORKLOAD)
    with _database() as url:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(ORDERS)
        unused = _erpops(["advisor", "unused", "--json"], url, tmp_path)
        assert unused.returncode == 0, unused.stderr
        health = json.loads(unused.stdout)
        assert [d["index"] for d in health["duplicates"]] == ["ix_orders_amount_again"]
        assert "ix_orders_amount" in [u["index"] for u in health["unused"]]
        assert {"index": "ix_orders_customer_fk", "why": "supports the foreign key (customer_id)"} in health["kept"]
        one = _erpops(["advisor", "analyze", "--file", "w.sql", "--max-indexes", "1", "--json", "-q"], url, tmp_path)
        assert one.returncode == 0, one.stderr
        report = json.loads(one.stdout)
        assert len(report["recommendations"]) == 1
        assert report["steps"][-1] == "stopped at the budget of 1 index(es)"
        assert one.stderr == ""  # --quiet: no progress
