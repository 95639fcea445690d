"""The core's commands that show data print valid JSON with `--json` (stdout only; progress stays on stderr), and
exit with the codes of `opskit.exitcodes`, on SQLite and on PostgreSQL. Each runs as its own process, as a user
runs it (in-process runs would leave the commands' connection pools to the garbage collector)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from erpcore.migrate import head
from opskit.exitcodes import ExitCode


@pytest.fixture
def database_url(backend: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                 request: pytest.FixtureRequest) -> str:
    """An empty database of each backend, configured through ERPOPS_DATABASE_URL only."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ERPOPS_CONFIG", "")
    url = f"sqlite:///{tmp_path}/erp.sqlite" if backend == "sqlite" else str(request.getfixturevalue("pg_schema_url"))
    monkeypatch.setenv("ERPOPS_DATABASE_URL", url)
    return url


def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`python -m erpops ARGV` with this test's environment (ERPOPS_DATABASE_URL, ERPOPS_CONFIG)."""
    return subprocess.run([sys.executable, "-m", "erpops", *argv], capture_output=True, text=True, timeout=300,
                          check=False)


def erpops(argv: list[str], code: int = ExitCode.OK) -> Any:
    """Run `erpops ARGV --json`; assert its exit code; return stdout parsed as JSON."""
    done = run([*argv, "--json"])
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    return json.loads(done.stdout)


def test_every_core_command_that_shows_data_prints_json(database_url: str, backend: str) -> None:
    assert erpops(["db", "current"]) == {"current": None, "head": head()}
    seeded = erpops(["seed", "--years", "1", "--orders-per-day", "2", "--seed", "7"])
    assert seeded["total_rows"] == sum(seeded["rows"].values()) > 1000
    assert seeded["orders_per_day"] == 2 and seeded["seed"] == 7
    assert erpops(["db", "current"]) == {"current": head(), "head": head()}

    check = erpops(["check"])
    assert check["ok"] is True and check["violations"] == [] and "journal_entries_balance" in check["checked"]

    start, end = seeded["start"], seeded["end"]
    tb = erpops(["report", "trial-balance", "--from", start, "--to", end])
    assert tb["accounts"], tb
    assert sum(float(a["closing"]) for a in tb["accounts"]) == pytest.approx(0, abs=0.005)
    sv = erpops(["report", "stock-valuation"])
    assert sv["rows"] and float(sv["total_value"]) > 0

    shown = erpops(["config", "show"])
    assert shown["core"]["database_url"].startswith(backend if backend == "sqlite" else "postgresql")
    assert erpops(["config", "validate"])["ok"] is True


def test_token_list_is_json_and_never_holds_the_token(database_url: str) -> None:
    assert run(["db", "upgrade"]).returncode == ExitCode.OK
    created = run(["token", "create", "--role", "viewer", "--name", "json-test"])
    assert created.returncode == ExitCode.OK, created.stderr
    token = created.stdout.strip()
    listed = erpops(["token", "list"])
    assert [t["name"] for t in listed] == ["json-test"] and listed[0]["role"] == "viewer"
    assert token and token not in json.dumps(listed)


def test_check_on_an_empty_database_is_a_usage_error_naming_the_fix(database_url: str) -> None:
    done = run(["check", "--json"])
    assert done.returncode == ExitCode.USAGE and done.stdout == ""
    assert done.stderr.startswith("error: database is at revision none (empty)") and "erpops db upgrade" in done.stderr


def test_config_validate_json_names_the_wrong_section_and_exits_2(
        database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPOPS_DATABASE_URL", "mysql://app@db/erp")
    report = erpops(["config", "validate"], code=ExitCode.USAGE)
    assert report["ok"] is False
    assert report["sections"]["core"].startswith("database_url: scheme mysql:// is not supported")
