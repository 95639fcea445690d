"""The verdict's precedence: harness, saturated generator, broken database, SLO breach, request errors, pass."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from loadtest.fixture import Fixture
from loadtest.runner import LocustPlan, ProcessCpu, commands
from loadtest.shapes import ShapeKind, ShapeSpec
from loadtest.slo import ThresholdResult
from loadtest.verdict import Evidence, Outcome, decide
from opskit.exitcodes import ExitCode

CALM = [ProcessCpu("local", 1, cpu_s=3.0, wall_s=10.0, peak=0.5)]
HOT = [ProcessCpu("worker-1", 2, cpu_s=8.5, wall_s=10.0, peak=1.0)]
MET = ThresholdResult("global", "p(95) < 300", True, 120.0, 300.0, False, "met")
BREACHED = ThresholdResult("global", "p(95) < 300", False, 412.0, 300.0, False, "p(95) was 412 ms")


def evidence(**kw: object) -> Evidence:
    base: dict[str, object] = {"harness_error": None, "requests": 100, "failures": 0, "thresholds": [MET],
                               "generator": CALM}
    return Evidence(**{**base, **kw})  # type: ignore[arg-type]


def test_pass() -> None:
    d = decide(evidence())
    assert (d.outcome, d.exit_code) == (Outcome.PASS, 0)
    assert d.reason == "all 1 threshold(s) met; 100 requests, 0 failed"


def test_breach_exits_1_failed_and_names_the_threshold() -> None:
    d = decide(evidence(thresholds=[MET, BREACHED]))
    assert d.outcome is Outcome.SLO_BREACH and d.exit_code == ExitCode.FAILED == 1 and "global: p(95) < 300 (p(95) was 412 ms)" in d.reason
    assert d.reason.startswith("1 of 2 threshold(s) breached")


def test_request_errors_exit_1_unless_the_slo_gates_them() -> None:
    assert decide(evidence(failures=3)).exit_code == 1
    assert decide(evidence(failures=3, errors_gated=True)).exit_code == 0


def test_harness_failures_exit_4_unavailable_before_anything_else() -> None:
    d = decide(evidence(harness_error="Locust exited with 1", thresholds=[BREACHED]))
    assert (d.outcome, d.exit_code, d.reason) == (Outcome.HARNESS_FAILURE, 4, "Locust exited with 1")
    assert d.exit_code == ExitCode.UNAVAILABLE
    assert decide(evidence(requests=0)).outcome is Outcome.HARNESS_FAILURE


def test_a_saturated_generator_is_untrustworthy_not_passed() -> None:
    assert HOT[0].saturated and not CALM[0].saturated
    d = decide(evidence(generator=CALM + HOT))
    assert (d.outcome, d.exit_code) == (Outcome.UNTRUSTWORTHY, 4)
    assert "worker-1 85%" in d.reason


def test_a_database_failing_check_outranks_the_slo() -> None:
    d = decide(evidence(database_ok=False, database_problem="trial_balance_zero: off by 1", thresholds=[BREACHED]))
    assert (d.outcome, d.exit_code) == (Outcome.INTEGRITY_FAILURE, 1) and "trial_balance_zero" in d.reason


def test_an_aborted_run_says_so() -> None:
    d = decide(evidence(thresholds=[BREACHED], aborted="global: p(99) breached"))
    assert d.exit_code == 1 and d.reason.startswith("aborted early (global: p(99) breached)")


def test_master_and_workers_command_lines(tmp_path: Path) -> None:
    fixture = Fixture({}, [], [], [], {}, {}, {}, "2024-01-01", "2024-01-31")
    plan = LocustPlan("http://127.0.0.1:1", tmp_path, "o2c", ShapeSpec(ShapeKind.RAMP, 2, 5), fixture, workers=2)
    cmds = commands(plan, 5599)
    assert [role for role, _ in cmds] == ["master", "worker-1", "worker-2"]
    master, worker = cmds[0][1], cmds[1][1]
    assert "--master" in master and master[master.index("--expect-workers") + 1] == "2"
    assert "--headless" in master and "--html" in master and "--headless" not in worker
    assert worker[worker.index("--master-port") + 1] == "5599"
    assert [role for role, _ in commands(LocustPlan("h", tmp_path, "o2c", plan.shape, fixture), 1)] == ["local"]


def test_the_cli_and_harness_never_import_locust() -> None:
    code = ("import sys, erpops.cli, loadtest.cli, loadtest.harness; "
            "sys.exit(1 if {'locust', 'gevent'} & set(sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], check=False, timeout=60).returncode == 0
