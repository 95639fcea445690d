"""One load test from start to verdict: server, data setup, Locust, gates, `erpops check`, files, clean-up.

`run(options)` returns the verdict and writes `verdict.json` beside Locust's CSV and HTML reports; it never
prints (progress goes to the `on_progress` callback). Harness failures (the server, the setup or Locust
failing) become verdicts too, so CI always finds a verdict file to read. Whatever way the run ends (a verdict,
an error, Ctrl-C, SIGTERM as `opskit.signals.Terminated`), Locust and the server are stopped and the run's
tokens revoked before `run` returns or raises.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from erpcore.exceptions import ConfigError
from loadtest.fixture import create_fixture
from loadtest.metrics import GLOBAL, Stats
from loadtest.options import RunOptions
from loadtest.runner import LocustPlan, LocustRun, ProcessCpu, Progress, run_locust
from loadtest.server import start_server
from loadtest.shapes import build
from loadtest.slo import Baseline, Slo, ThresholdResult, evaluate, load_slo, parse_slo
from loadtest.tokens import ROLES, RunTokens, new_run_id
from loadtest.verdict import Decision, Evidence, decide
from opskit.errors import Unavailable
from opskit.shield import deferred_signals


@dataclass(frozen=True)
class Verdict:
    """The outcome of a run, why, and the evidence: thresholds, totals, generator CPU, database check."""

    outcome: str
    exit_code: int
    reason: str
    suite: str
    shape: dict[str, Any]
    host: str
    started_at: str
    duration_s: float
    requests: int
    failures: int
    checks: int
    check_failures: int
    trustworthy: bool
    thresholds: list[ThresholdResult]
    generator: list[ProcessCpu]
    database_check: dict[str, Any]
    metrics: dict[str, dict[str, float | None]] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    workers: list[dict[str, Any]] = field(default_factory=list)  # each worker's name, host, pid, remote, requests
    run_id: str = ""  # in the names of the run's tokens and the codes of its parties and items
    tokens: dict[str, Any] = field(default_factory=dict)  # how many the run created and revoked

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["generator"] = [{**asdict(p), "mean": round(p.mean, 3), "saturated": p.saturated} for p in self.generator]
        return data


@dataclass(frozen=True)
class _Driven:
    host: str
    locust: LocustRun | None
    harness_error: str | None


def _database_check(url: str) -> dict[str, Any]:
    from erpcore.check import run_check
    from erpcore.db import make_engine

    engine = make_engine(url)
    try:
        report = run_check(engine)
    finally:
        engine.dispose()
    return {"ok": report.ok, "checked": len(report.checked),
            "violations": [f"{v.invariant}: {v.message} ({v.count})" for v in report.violations]}


def _abort_gate(slo: Slo | None, baseline: Baseline | None) -> Callable[[Stats], str | None] | None:
    gated = None if slo is None else Slo(tuple(t for t in slo.thresholds if t.abort_on_fail), slo.baseline)
    if gated is None or not gated.thresholds:
        return None

    def gate(stats: Stats) -> str | None:
        breached = [r for r in evaluate(gated, stats, baseline) if not r.ok and r.observed is not None]
        return None if not breached else f"{breached[0].selector}: {breached[0].reason}"

    return gate


def _slo(options: RunOptions) -> Slo | None:
    """The run's SLO: its file, or the profile's built-in one (written beside the reports for the record)."""
    if options.slo_path is not None:
        return load_slo(options.slo_path)
    if options.slo_text is None:
        return None
    options.out_dir.mkdir(parents=True, exist_ok=True)
    (options.out_dir / "slo.yaml").write_text(options.slo_text)
    return parse_slo(yaml.safe_load(options.slo_text), options.out_dir)


def _database_url(options: RunOptions) -> str | None:
    if options.database_url is not None or options.host is not None:
        if options.database_url is None and options.token is None:
            raise ConfigError("with --host, give --token (an admin token) or --database-url (to create tokens)")
        return options.database_url
    from erpcore.config import load_settings

    return load_settings().database_url


def _drive(options: RunOptions, database_url: str | None, tokens: RunTokens | None,
           gate: Callable[[Stats], str | None] | None, on_progress: Callable[[Progress], None] | None) -> _Driven:
    """Server, tokens, fixture, Locust; everything it started is stopped (and tokens revoked) when it leaves."""
    host, server = options.host or "", None
    try:
        if options.host is None:
            assert database_url is not None
            try:
                server = start_server(database_url, options.out_dir / "server.log")
            except Unavailable as exc:
                return _Driven(host, None, f"the API server did not start: {exc.message}")
            host = server.url
        token_map = tokens.create() if tokens else dict.fromkeys(ROLES, options.token or "")
        fixture = create_fixture(host, token_map, inject_errors=options.inject_errors,
                                 run_id=tokens.run_id if tokens else None)
        plan = LocustPlan(host, options.out_dir, options.suite, options.shape, fixture, options.workers,
                          options.locustfile, options.hard_timeout_s, options.remote_workers, options.master_bind_host,
                          options.master_port, options.remote_wait_s)
        locust = run_locust(plan, gate, on_progress=on_progress)
        return _Driven(host, locust, _workers_problem(locust, plan) or _locust_problem(locust, options.hard_timeout_s))
    except Unavailable as exc:
        return _Driven(host, None, exc.message)
    finally:
        with deferred_signals():  # a second Ctrl-C or SIGTERM cannot cut the clean-up short
            if server is not None:
                server.stop()
            if tokens is not None:
                tokens.revoke()


def run(options: RunOptions, on_progress: Callable[[Progress], None] | None = None) -> Verdict:
    """Run one load test and return its verdict (also written to `verdict.json` in the output folder)."""
    build(options.shape)
    slo = _slo(options)
    baseline_path = options.baseline or (slo.baseline if slo else None)
    baseline = Baseline.load(baseline_path) if slo and slo.relative and baseline_path else None
    database_url = _database_url(options)
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    tokens = RunTokens(database_url, new_run_id()) if database_url is not None else None
    driven = _drive(options, database_url, tokens, _abort_gate(slo, baseline), on_progress)
    locust, harness_error = driven.locust, driven.harness_error
    if harness_error is None and tokens is not None and tokens.problem:
        harness_error = tokens.problem
    stats = Stats.load(locust.stats_path) if locust and locust.stats_path else Stats.from_entries([])
    db = _database_check(database_url) if database_url and harness_error is None else {}
    results = evaluate(slo, stats, baseline) if slo and harness_error is None else []
    errors_gated = slo is not None and any(t.selector == GLOBAL and t.metric == "rate(errors)" for t in slo.thresholds)
    generator = locust.cpu if locust else []
    decision: Decision = decide(Evidence(harness_error, stats.requests(), stats.failures(), results, generator,
                                         errors_gated, locust.aborted if locust else None, db.get("ok"),
                                         "; ".join(db.get("violations", []))))
    checks = sum(e.requests for e in stats.checks(GLOBAL))
    verdict = Verdict(decision.outcome.value, decision.exit_code, decision.reason, options.suite,
                      options.shape.to_json(), driven.host, started_at, round(time.monotonic() - started, 3),
                      stats.requests(), stats.failures(), checks, stats.check_failures(),
                      not any(p.saturated for p in generator), results, generator, db,
                      stats.summaries(slo.selectors if slo else []), _files(out), locust.workers if locust else [],
                      tokens.run_id if tokens else "", tokens.to_json() if tokens else {})
    (out / "verdict.json").write_text(json.dumps(verdict.to_json(), indent=2) + "\n")
    return verdict


def _workers_problem(locust: LocustRun, plan: LocustPlan) -> str | None:
    if not locust.workers_missing:
        return None
    expected = plan.workers + plan.remote_workers
    where = f"{plan.master_bind_host}:{locust.master_port}"
    hint = (f"; start each remote one with `erpops loadtest worker --master-host <this host> --master-port "
            f"{locust.master_port}`" if plan.remote_workers else "")
    return (f"only {len(locust.workers)} of {expected} Locust workers ({plan.remote_workers} remote) connected to "
            f"the master on {where} within {plan.workers_wait_s:g}s{hint}")


def _locust_problem(locust: LocustRun, timeout_s: float) -> str | None:
    if locust.timed_out:
        return f"Locust was still running after the hard timeout of {timeout_s:.0f}s and was killed"
    if locust.stats_path is None:
        return f"Locust exited with {locust.returncode} and wrote no statistics: {locust.log_tail().strip()}"
    if locust.returncode not in (0, None) and not locust.aborted:
        return f"Locust exited with {locust.returncode}: {locust.log_tail().strip()}"
    return None


def _files(out: Path) -> dict[str, str]:
    names = {"html": "report.html", "csv": "locust_stats.csv", "history": "locust_stats_history.csv",
             "failures": "locust_failures.csv", "stats": "stats.json", "verdict": "verdict.json"}
    return {k: str(out / v) for k, v in names.items() if (out / v).exists() or k == "verdict"}
