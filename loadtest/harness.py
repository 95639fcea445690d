"""One load test from start to verdict: server, data setup, Locust, gates, `erpops check`, files.

`run(options)` returns the verdict and writes `verdict.json` beside Locust's CSV and HTML reports;
it never prints. Harness failures (the server, the setup or Locust failing) become verdicts too, so
CI always finds a verdict file to read.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from erpcore.exceptions import ConfigError, ErpError
from loadtest.fixture import ROLES, create_fixture, tokens_from_database
from loadtest.metrics import GLOBAL, Stats
from loadtest.runner import LocustPlan, LocustRun, ProcessCpu, run_locust
from loadtest.server import ServerProcess, start_server
from loadtest.shapes import ShapeSpec, build
from loadtest.slo import Baseline, Slo, ThresholdResult, evaluate, load_slo
from loadtest.verdict import Decision, Evidence, decide

SETUP_S = 60.0  # on top of the run time, for Locust to start, stop and write its reports


@dataclass(frozen=True)
class RunOptions:
    """What `erpops loadtest run` asks for, resolved (profile and defaults applied)."""

    suite: str
    shape: ShapeSpec
    out_dir: Path
    slo_path: Path | None = None
    host: str | None = None
    token: str | None = None
    database_url: str | None = None
    workers: int = 0
    locustfile: Path | None = None
    inject_errors: float = 0.0
    baseline: Path | None = None
    timeout_s: float | None = None
    remote_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_port: int | None = None
    remote_wait_s: float = 60.0

    @property
    def hard_timeout_s(self) -> float:
        remote = self.remote_wait_s if self.remote_workers else 0.0
        return self.timeout_s or self.shape.run_time_s + SETUP_S + 10 * self.workers + remote


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

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["generator"] = [{**asdict(p), "mean": round(p.mean, 3), "saturated": p.saturated} for p in self.generator]
        return data


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


def _abort_gate(slo: Slo | None, baseline: Baseline | None) -> Any:
    gated = None if slo is None else Slo(tuple(t for t in slo.thresholds if t.abort_on_fail), slo.baseline)
    if gated is None or not gated.thresholds:
        return None

    def gate(stats: Stats) -> str | None:
        breached = [r for r in evaluate(gated, stats, baseline) if not r.ok and r.observed is not None]
        return None if not breached else f"{breached[0].selector}: {breached[0].reason}"

    return gate


def _tokens(options: RunOptions, database_url: str | None, run_id: str) -> dict[str, str]:
    if database_url is not None:
        return tokens_from_database(database_url, run_id)
    if options.token is None:
        raise ConfigError("with --host, give --token (an admin token) or --database-url (to create tokens)")
    return dict.fromkeys(ROLES, options.token)


def run(options: RunOptions) -> Verdict:
    """Run one load test and return its verdict (also written to `verdict.json` in the output folder)."""
    build(options.shape)
    slo = load_slo(options.slo_path) if options.slo_path else None
    baseline_path = options.baseline or (slo.baseline if slo else None)
    baseline = Baseline.load(baseline_path) if slo and slo.relative and baseline_path else None
    if options.locustfile is not None and not options.locustfile.exists():
        raise ConfigError(f"no locustfile at {options.locustfile}")
    out = options.out_dir
    out.mkdir(parents=True, exist_ok=True)
    started_at = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    database_url = options.database_url
    if options.host is None and database_url is None:
        from erpcore.config import load_settings

        database_url = load_settings().database_url
    server: ServerProcess | None = None
    locust: LocustRun | None = None
    harness_error = None
    host = options.host or ""
    try:
        if options.host is None:
            assert database_url is not None
            server = start_server(database_url, out / "server.log")
            host = server.url
        tokens = _tokens(options, database_url, out.name)
        fixture = create_fixture(host, tokens, inject_errors=options.inject_errors)
        plan = LocustPlan(host, out, options.suite, options.shape, fixture, options.workers, options.locustfile,
                          options.hard_timeout_s, options.remote_workers, options.master_bind_host,
                          options.master_port, options.remote_wait_s)
        locust = run_locust(plan, _abort_gate(slo, baseline))
        harness_error = _workers_problem(locust, plan) or _locust_problem(locust, options.hard_timeout_s)
    except ErpError as exc:
        if exc.exit_code != 2:
            raise
        harness_error = exc.message
    finally:
        if server is not None:
            server.stop()
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
                      options.shape.to_json(), host, started_at, round(time.monotonic() - started, 3),
                      stats.requests(), stats.failures(), checks, stats.check_failures(),
                      not any(p.saturated for p in generator), results, generator, db,
                      stats.summaries(slo.selectors if slo else []), _files(out), locust.workers if locust else [])
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
