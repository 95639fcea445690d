"""`erpops payroll ...` and `erpops keys ...` as a user runs them, on SQLite and PostgreSQL: hire, run (twice),
pay, summarise to the cent; rotate keys in resumable batches; a missing key is one `error:` line, exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from erpcore.crypto import generate_key
from opskit.exitcodes import ExitCode

K1, K2 = generate_key("k1"), generate_key("k2")


@pytest.fixture
def database_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    monkeypatch.setenv("ERPOPS_ENCRYPTION_KEY", K1)
    url = f"sqlite:///{tmp_path}/erp.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    monkeypatch.setenv("ERPOPS_DATABASE_URL", url)
    return url


def run(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=300,
                          check=False, env={**os.environ, **env})


def erpops(argv: list[str], code: int = ExitCode.OK, **env: str) -> Any:
    done = run([*argv, "--json"], **env)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_hire_run_pay_summarise_and_rotate_keys_from_the_shell(database_url: str) -> None:
    assert run(["db", "upgrade"]).returncode == 0
    erpops(["payroll", "department", "add", "OPS", "Operations", "--cost-centre", "CC-100"])
    erpops(["payroll", "department", "add", "SAL", "Sales", "--cost-centre", "CC-200"])
    for code, dept, salary in (("E1", "OPS", "2500.55"), ("E2", "OPS", "3333.33"), ("E3", "SAL", "4100.00")):
        hired = erpops(["payroll", "employee", "add", code, f"Employee {code}", "--department", dept,
                        "--salary", salary, "--hired-on", "2026-09-01", "--tax-id", f"TX-{code}-778899"])
        assert hired["salary"] == salary
    first = erpops(["payroll", "run", "2026-10"])
    assert (Decimal(first["net_amount"]), first["headcount"]) == (Decimal("7400.74"), 3)
    assert erpops(["payroll", "run", "2026-10"])["id"] == first["id"]
    paid = erpops(["payroll", "pay", "2026-10", "--date", "2026-11-02"])
    assert (paid["status"], paid["paid_on"]) == ("paid", "2026-11-02")
    summary = erpops(["payroll", "summary", "2026-10"])
    assert [(r["department"], r["gross"], r["net"]) for r in summary["rows"]] == [
        ("OPS", "5833.88", "4346.24"), ("SAL", "4100.00", "3054.50")]
    assert erpops(["report", "payroll-summary", "--period", "2026-10"]) == summary  # the catalogue's, the same
    assert erpops(["check"])["ok"] is True
    listed = erpops(["payroll", "employee", "list"])
    assert [(e["code"], e["tax_id"]) for e in listed] == [("E1", "TX-E1-778899"), ("E2", "TX-E2-778899"),
                                                          ("E3", "TX-E3-778899")]

    status = erpops(["keys", "status"])
    assert status["active"] == "k1" and status["totals"] == {"k1": 9}  # 3 x (salary, tax id, payslip)
    assert status["fields"]["employee.salary"] == {"k1": 3} and status["fields"]["payroll_line.payslip"] == {"k1": 3}

    both = f"{K1},{K2}"
    partial = erpops(["keys", "rotate", "--batch-size", "2", "--max-batches", "1"], ERPOPS_ENCRYPTION_KEY=both)
    assert partial["finished"] is False and sum(partial["rewritten"].values()) == 2
    assert "resume" in partial["reason"]
    assert erpops(["keys", "status"], ERPOPS_ENCRYPTION_KEY=both)["totals"] == {"k1": 7, "k2": 2}
    done = erpops(["keys", "rotate", "--batch-size", "2"], ERPOPS_ENCRYPTION_KEY=both)
    assert done["finished"] is True and sum(done["rewritten"].values()) == 7
    assert erpops(["keys", "status"], ERPOPS_ENCRYPTION_KEY=K2)["totals"] == {"k2": 9}
    assert erpops(["payroll", "employee", "list"], ERPOPS_ENCRYPTION_KEY=K2)[1]["salary"] == "3333.33"

    unreadable = erpops(["keys", "status"], ExitCode.FAILED, ERPOPS_ENCRYPTION_KEY=K1)
    assert unreadable["missing"] == ["k2"]
    missing = run(["payroll", "employee", "list"], ERPOPS_ENCRYPTION_KEY=K1)
    assert missing.returncode == ExitCode.USAGE
    assert missing.stderr.splitlines() == [
        "error: employee.salary holds values encrypted with key 'k2', which is not configured: set "
        "ERPOPS_ENCRYPTION_KEY (or encryption_key_file) with that key's KID:BASE64KEY entry"]


def test_bad_payroll_input_is_one_error_line_and_writes_nothing(database_url: str) -> None:
    assert run(["db", "upgrade"]).returncode == 0
    erpops(["payroll", "department", "add", "OPS", "Operations", "--cost-centre", "CC-100"])
    for argv in (["payroll", "employee", "add", "E1", "N", "--department", "OPS", "--salary", "abc"],
                 ["payroll", "employee", "add", "E1", "N", "--department", "NOPE", "--salary", "100"],
                 ["payroll", "employee", "add", "E1", "N", "--department", "OPS", "--salary", "100.005"],
                 ["payroll", "run", "2026-13"],
                 ["payroll", "pay", "2026-10"],
                 ["payroll", "summary", "2026-10"]):
        done = run(argv)
        assert done.returncode == ExitCode.FAILED, (argv, done.stderr)
        assert len(done.stderr.splitlines()) == 1 and done.stderr.startswith("error: "), done.stderr
    assert erpops(["payroll", "employee", "list"]) == []
    bad_key = run(["keys", "status"], ERPOPS_ENCRYPTION_KEY="k1:short")
    assert bad_key.returncode == ExitCode.USAGE and "not 32 bytes" in bad_key.stderr
