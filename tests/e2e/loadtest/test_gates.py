"""Each gate outcome from real runs against the live API: 1 breach, 0 pass, 1 request errors, 4 harness failure.

Every run, whatever its outcome, leaves none of the tokens it created active.
"""

from __future__ import annotations

import json

import pytest

from loadtest.tokens import ROLES
from tests.e2e.loadtest.conftest import PROGRESS, LoadTest, tokens

pytestmark = pytest.mark.slow
SHORT = ["--users", "2", "--run-time", "6s"]
LENIENT = """
thresholds:
  global: ["p(95) < 30s", "rate(errors) < 0.01", "rate(checks) > 0.99"]
  procure_to_pay: ["p(99) < 60s"]
"""


def test_a_strict_threshold_fails_with_exit_1_names_it_and_aborts_the_run(loadtest: LoadTest) -> None:
    slo = loadtest.slo("""
thresholds:
  global: ["rate(checks) > 0.99"]
  POST /sales-orders/[id]/approve:
    - threshold: p(95) < 0.001
      abort_on_fail: true
""")
    run = loadtest("--suite", "o2c", "--users", "2", "--run-time", "60s", "--slo", slo)
    assert run.exit_code == 1, run.stderr + run.stdout
    assert run.verdict["outcome"] == "slo_breach" and run.verdict["reason"].startswith("aborted early")
    assert run.verdict["duration_s"] < 40  # stopped by the gate, not by the 60 s run time
    assert "POST /sales-orders/[id]/approve: p(95) < 0.001" in run.verdict["reason"]
    assert [t["ok"] for t in run.verdict["thresholds"]] == [True, False]
    assert "FAIL" in run.stdout and "slo_breach (exit 1)" in run.stdout
    assert "POST /sales-orders/[id]/approve" in run.stdout  # not eaten as rich markup
    assert run.verdict["database_check"]["ok"] is True


def test_a_lenient_threshold_passes_then_gates_a_second_run_against_it_as_baseline(loadtest: LoadTest) -> None:
    first = loadtest("--suite", "p2p", "--users", "2", "--run-time", "12s", "--slo", loadtest.slo(LENIENT), "--json")
    assert first.exit_code == 0, first.stderr + first.stdout
    assert json.loads(first.stdout)["outcome"] == "pass"  # stdout is the JSON alone: progress went to stderr
    assert PROGRESS.search(first.stderr), first.stderr
    assert first.verdict["tokens"]["created"] == len(ROLES) and not any(tokens(loadtest.database_url).values())
    assert first.verdict["database_check"]["ok"] is True and first.verdict["check_failures"] == 0
    html = (first.out / "report.html").read_text()
    assert "Locust" in html and "/purchase-orders/[id]/receive" in html
    assert (first.out / "locust_stats.csv").read_text().startswith("Type,Name,Request Count")
    assert first.verdict["metrics"]["procure_to_pay"]["count"] > 0

    relative = loadtest.slo(f"""
thresholds:
  global: ["p95 within +5000% of baseline"]
  procure_to_pay: ["p95 within -90% of baseline"]
baseline: {first.out / 'verdict.json'}
""", "relative.yaml")
    second = loadtest("--suite", "p2p", *SHORT, "--slo", relative)
    assert second.exit_code == 1, second.stderr + second.stdout
    assert [t["ok"] for t in second.verdict["thresholds"]] == [True, False]
    assert "baseline" in second.verdict["thresholds"][1]["reason"]
    assert second.verdict["database_check"]["ok"] is True


def test_injected_request_errors_exit_1_and_quiet_says_nothing_on_stderr(loadtest: LoadTest) -> None:
    slo = loadtest.slo("thresholds:\n  global: ['p(95) < 30s']\n")
    run = loadtest("--suite", "browse", "--users", "2", "--run-time", "12s", "--slo", slo, "--inject-errors", "0.3",
                   "--quiet")
    assert run.exit_code == 1, run.stderr + run.stdout
    assert run.stderr == ""  # no progress, no banner: --quiet
    assert run.verdict["outcome"] == "request_errors" and run.verdict["failures"] > 0
    assert "requests failed" in run.verdict["reason"]
    assert "401" in (run.out / "locust_failures.csv").read_text()
    assert run.verdict["database_check"]["ok"] is True


def test_a_broken_locustfile_is_a_harness_failure_exit_4_that_still_revokes_its_tokens(loadtest: LoadTest) -> None:
    broken = loadtest.tmp_path / "broken_locustfile.py"
    broken.write_text("from locust import FastHttpUser\nimport no_such_module_for_loadtest\n")
    run = loadtest("--locustfile", "broken_locustfile.py", *SHORT)  # relative to where the command runs
    assert run.exit_code == 4, run.stderr + run.stdout
    assert run.verdict["outcome"] == "harness_failure"
    assert "no_such_module_for_loadtest" in run.verdict["reason"]
    assert "harness_failure (exit 4)" in run.stdout
    run_id = run.verdict["run_id"]
    assert tokens(loadtest.database_url) == {f"loadtest-{run_id}-{role}": False for role in ROLES}
    assert run.verdict["tokens"] == {"created": len(ROLES), "revoked": len(ROLES), "problem": None}
