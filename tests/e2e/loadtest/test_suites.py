"""The suites against the live API: shapes give their user counts, workers share the load, the books stay right."""

from __future__ import annotations

import csv

import pytest

from loadtest.tokens import ROLES
from tests.dbhelpers import pg_schema_engine, pg_url
from tests.e2e.loadtest.conftest import LoadTest, tokens

pytestmark = pytest.mark.slow


def test_month_end_suite_under_the_month_end_shape(loadtest: LoadTest) -> None:
    run = loadtest("--suite", "month-end", "--shape", "month-end", "--users", "4", "--run-time", "8s")
    assert run.exit_code == 0, run.stderr + run.stdout
    with (run.out / "locust_stats_history.csv").open() as f:
        counts = {int(row["User Count"]) for row in csv.DictReader(f) if row["Name"] == "Aggregated"}
    assert {2, 4} <= counts and max(counts) == 4  # the ordinary day at half, the close at full
    metrics = run.verdict["metrics"]
    assert metrics["TASK reports"]["count"] > 0 and metrics["TASK order_to_cash"]["count"] > 0
    assert metrics["TASK payroll_close"]["count"] > 0 and metrics["TASK payroll_close"]["rate(errors)"] == 0
    assert metrics["POST /payroll/runs/[period]/pay"]["count"] > 0
    assert run.verdict["check_failures"] == 0 and run.verdict["database_check"]["ok"] is True


def test_reports_suite_on_a_master_and_two_workers(loadtest: LoadTest) -> None:
    run = loadtest("--suite", "reports", "--users", "2", "--run-time", "6s", "--workers", "2")
    assert run.exit_code == 0, run.stderr + run.stdout
    assert [p["role"] for p in run.verdict["generator"]] == ["master", "worker-1", "worker-2"]
    assert all(p["cpu_s"] > 0 and p["saturated"] is False for p in run.verdict["generator"])
    assert sorted((w["name"], w["remote"]) for w in run.verdict["workers"]) == [("worker-1", False), ("worker-2", False)]
    assert run.verdict["metrics"]["GET /reports/trial-balance"]["count"] > 0
    assert run.verdict["database_check"]["ok"] is True


@pytest.mark.pg
def test_ci_profile_passes_on_postgresql_in_under_two_minutes(loadtest: LoadTest) -> None:
    url = pg_url()
    if url is None:
        pytest.skip("no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432")
    from sqlalchemy import text

    with pg_schema_engine(url) as engine:
        with engine.connect() as conn:
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
        sep = "&" if "?" in url else "?"
        database_url = f"{url}{sep}options=-csearch_path%3D{schema}"
        run = loadtest("--profile", "ci", "--database-url", database_url, timeout=170)
        left = tokens(database_url)  # the run's six, all revoked
        assert sorted(left) == sorted(f"loadtest-{run.verdict['run_id']}-{role}" for role in ROLES), left
        assert not any(left.values())
    assert run.exit_code == 0, run.stderr + run.stdout
    v = run.verdict
    assert v["suite"] == "day" and v["shape"]["kind"] == "ramp" and v["duration_s"] < 120
    assert [t["ok"] for t in v["thresholds"]] == [True] * 4 and v["trustworthy"] is True
    for task in ("order_to_cash", "procure_to_pay", "browse", "reports"):
        assert v["metrics"][f"TASK {task}"]["count"] > 0, task
    assert v["database_check"] == {"ok": True, "checked": v["database_check"]["checked"], "violations": []}


def test_production_suite_makes_work_orders_from_plan_to_close(loadtest: LoadTest) -> None:
    run = loadtest("--suite", "production", "--users", "2", "--run-time", "8s")
    assert run.exit_code == 0, run.stderr + run.stdout
    metrics = run.verdict["metrics"]
    assert metrics["TASK plan_to_produce"]["count"] > 0 and metrics["TASK plan_to_produce"]["rate(errors)"] == 0
    for step in ("POST /work-orders", "POST /work-orders/[id]/release", "POST /work-orders/[id]/issue",
                 "POST /work-orders/[id]/receive", "POST /work-orders/[id]/close"):
        assert metrics[step]["count"] > 0, step
    assert run.verdict["check_failures"] == 0 and run.verdict["database_check"]["ok"] is True
