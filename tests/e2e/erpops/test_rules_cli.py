"""`erpops rules|budget|roles` as a user runs them, on SQLite and PostgreSQL: the rulebook loaded and edited,
budgets set and reported, refusals as one `error:` line with the documented exit code, roles checked."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert

from erpcore.db import make_engine
from erpcore.models import Department
from opskit.exitcodes import ExitCode

ROOT = Path(__file__).resolve().parents[3]
TODAY = dt.date.today()
PERIOD = f"{TODAY.year:04d}-{TODAY.month:02d}"


@pytest.fixture
def database_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    url = f"sqlite:///{tmp_path}/erp.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    monkeypatch.setenv("ERPOPS_DATABASE_URL", url)
    assert run(["db", "upgrade"]).returncode == 0
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(insert(Department).values(code="OPS", name="Operations", cost_centre="CC100"))
    engine.dispose()
    return url


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=300,
                          check=False)


def erpops(argv: list[str], code: int = ExitCode.OK) -> Any:
    done = run([*argv, "--json"])
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_rulebook_and_budget_commands(database_url: str, tmp_path: Path) -> None:
    loaded = erpops(["rules", "load", str(ROOT / "erpcore" / "rulebook.yaml")])
    assert "po-large" in loaded["approval_rules"] and "budget" in loaded["controls"]
    listed = erpops(["rules", "list"])
    assert {c["name"]: c["mode"] for c in listed["controls"]}["discount_limit"] == "stop"
    assert erpops(["rules", "show", "po-large"])["steps"] == [{"roles": ["purchasing"], "required": 1},
                                                              {"roles": ["finance"], "required": 1}]
    made = erpops(["rules", "set", "so-vip", "--document-type", "sales_order", "--when", "customer=VIP1|VIP2",
                   "--when", "amount_over=500", "--step", "sales", "--step", "finance,admin:2"])
    assert made["conditions"] == {"customer": ["VIP1", "VIP2"], "amount_over": "500"}
    assert made["steps"][1] == {"roles": ["finance", "admin"], "required": 2} and made["version"] == 1
    again = erpops(["rules", "set", "so-vip", "--document-type", "sales_order", "--step", "finance"])
    assert again["version"] == 2 and again["conditions"] == {}
    assert erpops(["rules", "delete", "so-vip"])["code"] == "so-vip"
    assert erpops(["rules", "control", "budget", "--mode", "warn"])["mode"] == "warn"
    budget = erpops(["budget", "set", "OPS", "1200", PERIOD, "1500.50"])
    assert (budget["department"], budget["period"]) == ("OPS", PERIOD)
    assert [b["account"] for b in erpops(["budget", "list", "--period", PERIOD])] == ["1200"]
    [line] = erpops(["budget", "report", "--department", "OPS"])
    assert (line["budget"], line["remaining"], line["committed"]) == ("1500.50", "1500.50", "0.00")
    assert erpops(["rules", "blocks"]) == []
    table = run(["rules", "list"])
    assert table.returncode == 0 and "po-large" in table.stdout and "1 of purchasing then 1 of finance" in table.stdout


@pytest.mark.parametrize(("argv", "code", "message"), [
    (["rules", "show", "nope"], ExitCode.FAILED, "approval rule 'nope' does not exist"),
    (["rules", "delete", "nope"], ExitCode.FAILED, "does not exist"),
    (["rules", "set", "x", "--document-type", "invoice", "--step", "finance"], ExitCode.FAILED,
     "document_type must be one of"),
    (["rules", "set", "x", "--document-type", "sales_order", "--step", "pope"], ExitCode.FAILED, "unknown role"),
    (["rules", "control", "speed"], ExitCode.FAILED, "control 'speed'"),
    (["budget", "set", "OPS", "1200", "2026-13", "10"], ExitCode.FAILED, "period must be a month"),
    (["budget", "set", "NOPE", "1200", PERIOD, "10"], ExitCode.FAILED, "unknown department"),
    (["budget", "set", "OPS", "1200", PERIOD, "ten"], ExitCode.USAGE, "is not a number"),
])
def test_refusals_are_one_error_line_and_nothing_is_written(database_url: str, argv: list[str], code: int,
                                                            message: str) -> None:
    done = run(argv)
    assert done.returncode == code, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert erpops(["rules", "list"])["approval_rules"] == [] and erpops(["budget", "list"]) == []


def test_a_rulebook_file_that_is_not_yaml_is_refused(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("approval_rules: [unclosed\n")
    done = run(["rules", "load", str(bad)])
    assert done.returncode == ExitCode.FAILED and "not valid YAML" in done.stderr


def test_roles_check_reports_the_conflicts_of_the_access_table() -> None:
    report = erpops(["roles", "check"], ExitCode.FAILED)
    assert report["ok"] is False
    assert {"role": "finance", "permissions": "purchase.invoice.post + purchase.payment.post",
            "conflict": "one person enters supplier invoices and pays them"} in report["conflicts"]
