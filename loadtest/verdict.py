"""The verdict of a run: one outcome, its exit code and the sentence that says why, decided in one place.

    outcome            exit                when
    harness_failure    4 UNAVAILABLE       Locust, its workers or the server failed, timed out, or made no request
    untrustworthy      4 UNAVAILABLE       a generator process used over 80 % of a core: it measured itself
    integrity_failure  1 FAILED            the database fails `erpops check` after the run
    slo_breach         1 FAILED            a threshold was breached (or aborted the run)
    request_errors     1 FAILED            requests failed and no global `rate(errors)` threshold says how many may
    pass               0 OK                everything else

The codes are those of every erpops command (`opskit.exitcodes`); the outcome in `verdict.json` tells the
three failures apart. Bad options and SLO files fail before the run with 2 (USAGE) and no verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from loadtest.runner import ProcessCpu
from loadtest.slo import ThresholdResult
from opskit.exitcodes import ExitCode


class Outcome(StrEnum):
    PASS = "pass"
    REQUEST_ERRORS = "request_errors"
    HARNESS_FAILURE = "harness_failure"
    UNTRUSTWORTHY = "untrustworthy"
    INTEGRITY_FAILURE = "integrity_failure"
    SLO_BREACH = "slo_breach"


EXIT_CODES: dict[Outcome, ExitCode] = {
    Outcome.PASS: ExitCode.OK, Outcome.REQUEST_ERRORS: ExitCode.FAILED, Outcome.INTEGRITY_FAILURE: ExitCode.FAILED,
    Outcome.SLO_BREACH: ExitCode.FAILED, Outcome.HARNESS_FAILURE: ExitCode.UNAVAILABLE,
    Outcome.UNTRUSTWORTHY: ExitCode.UNAVAILABLE,
}


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str

    @property
    def exit_code(self) -> int:
        return int(EXIT_CODES[self.outcome])


@dataclass(frozen=True)
class Evidence:
    """Everything the decision looks at, gathered by the harness."""

    harness_error: str | None
    requests: int
    failures: int
    thresholds: Sequence[ThresholdResult]
    generator: Sequence[ProcessCpu]
    errors_gated: bool = False
    aborted: str | None = None
    database_ok: bool | None = None
    database_problem: str = ""


def decide(e: Evidence) -> Decision:
    """The outcome of a run, by the precedence in this module's docstring."""
    if e.harness_error:
        return Decision(Outcome.HARNESS_FAILURE, e.harness_error)
    if e.requests == 0:
        return Decision(Outcome.HARNESS_FAILURE, "the run made no request")
    hot = [p for p in e.generator if p.saturated]
    if hot:
        who = ", ".join(f"{p.role} {p.mean:.0%}" for p in hot)
        return Decision(Outcome.UNTRUSTWORTHY, f"the load generator was saturated ({who} of a core, limit 80%): "
                                               "the figures measure the generator; add --workers or hosts")
    if e.database_ok is False:
        return Decision(Outcome.INTEGRITY_FAILURE, f"the database fails `erpops check` after the run: "
                                                   f"{e.database_problem}")
    breached = [t for t in e.thresholds if not t.ok]
    if breached:
        names = "; ".join(f"{t.selector}: {t.expression} ({t.reason})" for t in breached)
        prefix = f"aborted early ({e.aborted}); " if e.aborted else ""
        return Decision(Outcome.SLO_BREACH, f"{prefix}{len(breached)} of {len(e.thresholds)} threshold(s) "
                                            f"breached: {names}")
    if e.failures and not e.errors_gated:
        return Decision(Outcome.REQUEST_ERRORS, f"{e.failures} of {e.requests} requests failed and the SLO sets "
                                                "no global rate(errors) threshold")
    met = f"all {len(e.thresholds)} threshold(s) met" if e.thresholds else "no thresholds set"
    return Decision(Outcome.PASS, f"{met}; {e.requests} requests, {e.failures} failed")
