"""`erpops report ...` on a seeded database: `--json` is the report itself, `--csv` parses with the csv module
and reconciles with the ledger, the table has its title and totals, and bad input is one `error:` line, exit 2."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from erpcore.domain import closing, reporting
from erpcore.reporting import ageing, ledger, statements
from erpcore.seed import SeedSummary, seed
from erpops.cli import app
from opskit import output
from opskit.exitcodes import ExitCode
from tests.dbhelpers import sqlite_engine

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, SeedSummary, dict[str, str]]]:
    """60 days of history in a SQLite file, and the environment that points `erpops` at it."""
    with sqlite_engine(tmp_path_factory.mktemp("report_cli")) as engine:
        summary = seed(engine, 1, 3, 20261130, days=60)
        env = {"ERPOPS_DATABASE_URL": engine.url.render_as_string(hide_password=False), "ERPOPS_CONFIG": ""}
        yield engine, summary, env


def _invoke(env: dict[str, str], argv: list[str]) -> str:
    done = CliRunner().invoke(app, ["report", *argv], env=env)
    assert done.exit_code == 0, (argv, done.output, done.exception)
    return done.stdout


def _csv(text: str) -> tuple[list[dict[str, str]], dict[str, str]]:
    """The data rows and the totals row (the last) of a CSV report."""
    rows = list(csv.DictReader(io.StringIO(text)))
    return rows[:-1], rows[-1]


def _month(summary: SeedSummary) -> str:
    return f"{summary.end.year:04d}-{summary.end.month:02d}"


def test_json_is_the_report_as_the_api_returns_it(seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    engine, summary, env = seeded
    got = json.loads(_invoke(env, ["balance-sheet", "--period", _month(summary), "--compare", "--json"]))
    span = reporting.span_of(_month(summary), None, None, summary.end)
    expected = statements.with_previous_balance_sheet(statements.balance_sheet(engine, span),
                                                      statements.balance_sheet(engine, reporting.previous(span)))
    assert got == output.to_jsonable(expected)
    t = got["totals"]
    assert Decimal(t["assets"]) == Decimal(t["liabilities"]) + Decimal(t["equity"]) + Decimal(t["result"]) > 0
    tb = json.loads(_invoke(env, ["trial-balance", "--from", f"{summary.start.year}-01-01",
                                  "--to", summary.end.isoformat(), "--json"]))
    assert tb["totals"]["closing"] == "0.00" and tb["totals"]["debit"] == tb["totals"]["credit"]


def test_csv_profit_and_loss_parses_and_its_result_is_the_ledger_result(
        seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    engine, summary, env = seeded
    text = _invoke(env, ["profit-and-loss", "--from", summary.start.isoformat(), "--to", summary.end.isoformat(),
                         "--compare", "--csv"])
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["section", "code", "name", "amount", "previous", "change"]
    accounts = [r for r in rows if r["code"]]
    result = next(r for r in rows if r["name"] == "result")
    income = sum(Decimal(r["amount"]) for r in accounts if r["section"] == "income")
    expense = sum(Decimal(r["amount"]) for r in accounts if r["section"] == "expense")
    assert Decimal(result["amount"]) == income - expense != 0
    pl = statements.profit_and_loss(engine, reporting.Span(summary.start, summary.end))
    assert Decimal(result["amount"]) == pl.totals.result
    assert all(Decimal(r["change"]) == Decimal(r["amount"]) - Decimal(r["previous"]) for r in rows)


def test_csv_ageing_total_is_the_receivables_account(seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    engine, summary, env = seeded
    as_of = summary.end - dt.timedelta(days=10)
    rows, total = _csv(_invoke(env, ["ar-ageing", "--as-of", as_of.isoformat(), "--buckets", "10,20,40", "--csv"]))
    assert list(total) == ["code", "name", "bucket_0", "bucket_1", "bucket_2", "bucket_3", "bucket_4", "total"]
    assert total["code"] == "total" and rows
    buckets = [f"bucket_{i}" for i in range(5)]
    for column in [*buckets, "total"]:
        assert sum(Decimal(r[column]) for r in rows) == Decimal(total[column]), column
    tb = ledger.trial_balance(engine, closing.fiscal_year_start(as_of), as_of)
    assert Decimal(total["total"]) == next(r.closing for r in tb.accounts if r.code == "1100")
    assert Decimal(total["total"]) == ageing.ageing(engine, ageing.AR, as_of, (10, 20, 40)).total


def test_csv_sales_sum_to_the_revenue_movement_and_stock_to_inventory(
        seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    engine, summary, env = seeded
    rows, total = _csv(_invoke(env, ["sales", "--from", summary.start.isoformat(), "--to",
                                     summary.end.isoformat(), "--csv"]))
    revenue = next(r for r in ledger.trial_balance(engine, summary.start, summary.end).accounts if r.code == "4000")
    assert sum(Decimal(r["net_sales"]) for r in rows) == Decimal(total["net_sales"]) == revenue.credit - revenue.debit
    assert {r["month"] for r in rows} >= {_month(summary)}
    rows, total = _csv(_invoke(env, ["stock-valuation", "--csv"]))
    inventory = next(r for r in ledger.trial_balance(engine, summary.start, summary.end).accounts if r.code == "1200")
    assert sum(Decimal(r["value"]) for r in rows) == Decimal(total["value"]) == inventory.closing > 0


def test_the_table_has_its_title_columns_and_totals(seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    _engine, summary, env = seeded
    table = _invoke(env, ["ap-ageing", "--buckets", "30,60"])
    assert f"AP ageing at {dt.date.today()}" in table and "over 60" in table and "total" in table
    table = _invoke(env, ["trial-balance", "--period", _month(summary), "--compare"])
    assert "Trial balance" in table and "prev. closing" in table


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erpops", "report", *argv], capture_output=True, text=True,
                          timeout=120, cwd=ROOT, env={**os.environ, **env}, check=False)


@pytest.mark.parametrize(("argv", "says"), [
    (["balance-sheet", "--period", "2026-13"], "error: period '2026-13' is not a month written YYYY-MM"),
    (["ar-ageing", "--buckets", "60,30"], "error: buckets '60,30' must rise"),
    (["profit-and-loss", "--buckets", "30"], "error: report profit-and-loss takes no ageing buckets"),
    (["sales", "--json", "--csv"], "error: --json and --csv exclude each other"),
])
def test_bad_input_is_one_error_line_and_exit_2(argv: list[str], says: str,
                                                seeded: tuple[Engine, SeedSummary, dict[str, str]]) -> None:
    done = _run(argv, seeded[2])
    assert done.returncode == ExitCode.USAGE, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith(says) and done.stdout == ""


def test_help_hides_options_a_report_does_not_take() -> None:
    def help_of(name: str) -> Any:
        done = CliRunner().invoke(app, ["report", name, "--help"], terminal_width=200)
        assert done.exit_code == 0
        return done.stdout

    assert "--buckets" in help_of("ar-ageing") and "--period" not in help_of("ar-ageing")
    assert "--compare" in help_of("balance-sheet") and "--buckets" not in help_of("balance-sheet")
    assert "Example: erpops report sales" in " ".join(help_of("sales").split())
