"""The one output contract: every command that offers `--json` prints one valid JSON document on stdout.

Each such command is either run here, offline on a fresh migrated SQLite database, or named in ELSEWHERE with
the test that runs it (it needs a cluster, sites, a lab, or writes history). A new `--json` command must be
placed in one of the two, or `test_every_json_command_is_checked_somewhere` fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from erpops.cli import app

ROOT = Path(__file__).resolve().parents[3]

RUN_HERE: dict[str, list[str]] = {
    "check": [],
    "db current": [],
    "config show": [],
    "config validate": [],
    "token list": [],
    "roles list": [],
    "roles show": ["controller"],
    "audit verify": [],
    "audit show": ["--entity", "SO-2026-000001"],
    "report trial-balance": ["--from", "2026-01-01", "--to", "2026-12-31"],
    "report stock-valuation": [],
    "report balance-sheet": ["--period", "2026-11", "--compare"],
    "report profit-and-loss": ["--from", "2026-01-01", "--to", "2026-11-30", "--compare"],
    "report ar-ageing": ["--as-of", "2026-11-30", "--buckets", "30,60"],
    "report ap-ageing": [],
    "report sales": ["--period", "2026-11"],
    "report production-cost": ["--period", "2026-11"],
    "report budget-vs-actual": ["--period", "2026-11"],
    "period list": [],
    "monitor rules list": [],
    "monitor rules check": [],
    "monitor silence list": [],
    "monitor eval": [],
    "runbook list": [],
    "runbook show": ["PostgresqlDown"],
    "loadtest slo check": [str(ROOT / "loadtest" / "slo.yaml")],
    "archive plan": [],
    "archive status": [],
    "advisor unused": ["--database-url", "{database_url}"],
    "backup list": [],
    "backup status": [],
    "production workorder list": [],
    "production cost": [],
    "payroll employee list": [],
    "keys status": [],
    "rules list": [],
    "rules blocks": [],
    "budget list": [],
    "budget report": [],
    "outbox subscriptions": [],
    "outbox status": [],
    "outbox deliver": [],
}
ELSEWHERE: dict[str, str] = {
    "seed": "tests/e2e/erpops/test_core_json.py (writes history)",
    "period close": "tests/e2e/api/test_periods.py (the service behind it)",
    "period reopen": "tests/e2e/api/test_periods.py",
    "payroll department add": "tests/e2e/erpops/test_payroll_cli.py (writes master data)",
    "payroll employee add": "tests/e2e/erpops/test_payroll_cli.py (writes master data)",
    "payroll run": "tests/e2e/erpops/test_payroll_cli.py (needs employees)",
    "payroll pay": "tests/e2e/erpops/test_payroll_cli.py (needs a run)",
    "payroll summary": "tests/e2e/erpops/test_payroll_cli.py (needs a run)",
    "report payroll-summary": "tests/e2e/erpops/test_payroll_cli.py (needs a run)",
    "keys rotate": "tests/e2e/erpops/test_payroll_cli.py (needs keys and sealed values)",
    "roles create": "tests/e2e/erpops/test_access_cli.py",
    "roles grant": "tests/e2e/erpops/test_access_cli.py",
    "roles revoke": "tests/e2e/erpops/test_access_cli.py",
    "monitor run": "tests/e2e/monitor/test_cli_contract.py (runs until stopped)",
    "monitor probe": "tests/e2e/monitor (needs a PostgreSQL server)",
    "monitor silence add": "tests/e2e/monitor/test_cli.py (writes a silence)",
    "monitor silence expire": "tests/e2e/monitor/test_cli.py",
    "loadtest run": "tests/e2e/loadtest (starts an API and Locust)",
    "loadtest worker": "tests/e2e/loadtest/test_remote_workers.py",
    "archive run": "tests/e2e/archive (moves seeded history)",
    "archive verify": "tests/e2e/archive",
    "archive restore": "tests/e2e/archive",
    "archive show": "tests/e2e/archive (needs an archived document)",
    "archive views": "tests/e2e/archive (needs the archive in the production PostgreSQL database)",
    "advisor analyze": "tests/e2e/advisor (PostgreSQL with hypopg)",
    "advisor apply": "tests/e2e/advisor",
    "advisor undo": "tests/e2e/advisor",
    "backup create": "tests/e2e/backup (a cluster with WAL archiving and sites)",
    "backup verify": "tests/e2e/backup",
    "backup restore": "tests/e2e/backup",
    "backup drill": "tests/e2e/backup",
    "backup wal-stream": "tests/e2e/backup",
    "backup restore-table": "tests/e2e/backup",
    "backup restore-dump": "tests/e2e/backup",
    "backup prune": "tests/e2e/backup",
    "backup catch-up": "tests/e2e/backup",
    "failover drill": "tests/e2e/failover (lab clusters)",
    "failover status": "tests/e2e/failover (a lab directory)",
    "failover promote": "tests/e2e/failover/test_promote.py",
    "failover init": "tests/e2e/failover",
    "failover lab up": "tests/e2e/failover",
    "failover lab down": "tests/e2e/failover",
    "production bom add": "tests/e2e/erpops/test_production_cli.py (needs items)",
    "production bom show": "tests/e2e/erpops/test_production_cli.py",
    "production workorder plan": "tests/e2e/erpops/test_production_cli.py",
    "production workorder release": "tests/e2e/erpops/test_production_cli.py",
    "production workorder issue": "tests/e2e/erpops/test_production_cli.py",
    "production workorder receive": "tests/e2e/erpops/test_production_cli.py",
    "production workorder close": "tests/e2e/erpops/test_production_cli.py",
    "production workorder cancel": "tests/e2e/erpops/test_production_cli.py",
    "returns customer create": "tests/e2e/erpops/test_returns_cli.py (needs shipped and invoiced goods)",
    "returns customer list": "tests/e2e/erpops/test_returns_cli.py",
    "returns supplier create": "tests/e2e/erpops/test_returns_cli.py (needs a goods receipt)",
    "returns supplier list": "tests/e2e/erpops/test_returns_cli.py",
    "cancel": "tests/e2e/erpops/test_returns_cli.py (needs a document to cancel)",
    "rules load": "tests/e2e/erpops/test_rules_cli.py (writes the rulebook)",
    "rules show": "tests/e2e/erpops/test_rules_cli.py (needs a rule)",
    "rules set": "tests/e2e/erpops/test_rules_cli.py",
    "rules delete": "tests/e2e/erpops/test_rules_cli.py",
    "rules control": "tests/e2e/erpops/test_rules_cli.py",
    "budget set": "tests/e2e/erpops/test_rules_cli.py (needs a department)",
    "roles check": "tests/e2e/erpops/test_rules_cli.py (exits 1 while the access table has conflicts)",
    "outbox subscribe": "tests/e2e/erpops/test_outbox.py (writes a subscription)",
    "outbox unsubscribe": "tests/e2e/erpops/test_outbox.py",
    "outbox replay": "tests/e2e/erpops/test_outbox.py (needs a message)",
}


def _json_commands() -> list[str]:
    found: list[str] = []

    def walk(group: Any, prefix: str) -> None:
        for name, cmd in group.commands.items():
            path = f"{prefix} {name}".strip()
            if hasattr(cmd, "commands"):
                walk(cmd, path)
            elif any("--json" in getattr(p, "opts", []) for p in cmd.params):
                found.append(path)

    walk(typer.main.get_command(app), "")
    return found


def test_every_json_command_is_checked_somewhere() -> None:
    offered = set(_json_commands())
    assert offered - RUN_HERE.keys() - ELSEWHERE.keys() == set()
    assert (RUN_HERE.keys() | ELSEWHERE.keys()) - offered == set()  # no stale entry


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    where = tmp_path_factory.mktemp("json")
    env = {**os.environ, "ERPOPS_DATABASE_URL": f"sqlite:///{where / 'erp.sqlite'}", "ERPOPS_CONFIG": "",
           "ERPOPS_MONITOR__STATE_DIR": str(where / "monitor"),
           "ERPOPS_ARCHIVE__DESTINATION_URL": f"sqlite:///{where / 'archive.sqlite'}"}
    done = subprocess.run([sys.executable, "-m", "erpops", "db", "upgrade"], env=env, capture_output=True, text=True,
                          cwd=where, timeout=120)
    assert done.returncode == 0, done.stderr
    return env


@pytest.mark.parametrize("command", sorted(RUN_HERE))
def test_json_is_one_valid_document_on_stdout(command: str, database: dict[str, str]) -> None:
    args = [a.format(database_url=database["ERPOPS_DATABASE_URL"]) for a in RUN_HERE[command]]
    done = subprocess.run([sys.executable, "-m", "erpops", *command.split(), *args, "--json"], env=database,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert "Traceback" not in done.stderr
