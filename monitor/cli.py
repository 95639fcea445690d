"""`erpops monitor`: Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from opskit import output
from opskit.errors import Unavailable, UsageError

app = typer.Typer(help="Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks.\n\n"
                       "Example: erpops monitor run --duration 60",
                  no_args_is_help=True)
rules_app = typer.Typer(help="The alerting rules: list, check, export for Prometheus.\n\nExample: erpops monitor rules export -o rules.yml", no_args_is_help=True)
silence_app = typer.Typer(help="Silences: mute matching alerts for a time window.\n\n"
                         "Example: erpops monitor silence add alertname=HostHighCpuLoad -a ana -c maintenance -d 2h", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(silence_app, name="silence")

RulePaths = typer.Option(None, "--rules", help="Rule files or directories (default: the shipped rules).")


@app.command("run")
def run(
    interval: float = typer.Option(None, help="Seconds between evaluations (default from settings, >= 1)."),
    duration: float = typer.Option(None, help="Stop after this many seconds (default: run until Ctrl-C)."),
    ticks: int = typer.Option(None, help="Stop after this many evaluations."),
    scrape: Annotated[list[str] | None, typer.Option(
        help="Also scrape this /metrics URL each tick (repeatable); the ERP API's needs a token in "
             "monitor.scrape_token (ERPOPS_MONITOR__SCRAPE_TOKEN), unless monitor.metrics_public.")] = None,
    database: bool = typer.Option(True, help="Probe the configured database and read its alert events."),
    listen: bool = typer.Option(True, help="Serve /metrics on the configured listen host and port."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Sample host and database, evaluate every rule and notify, once per interval; print what changes.

    A line (or, with --json, one JSON object per line) each time an alert starts or stops firing, a rule
    or source breaks or recovers, or a notification goes out; nothing while all stays the same.

    Example: erpops monitor run --duration 60 --scrape http://127.0.0.1:8000/metrics
    """
    from monitor.bootstrap import open_monitor
    from monitor.settings import load_monitor_settings

    settings = load_monitor_settings()
    if interval is not None and interval < 1:
        raise UsageError(f"--interval must be at least 1 second (got {interval:g})")
    monitor = open_monitor(settings, database, scrape, listen)
    every = interval or settings.interval
    where = f"; /metrics on http://{settings.listen_host}:{settings.listen_port}" if listen else ""
    output.note(f"monitor: {len(monitor.rules)} rules every {every:g}s, printing changes{where}")
    show = _json_line if as_json else _change_line
    monitor.run_until_done(every, duration, ticks, show)


def _json_line(change: Any) -> None:
    sys.stdout.write(json.dumps(change.to_dict()) + "\n")
    sys.stdout.flush()


def _change_line(change: Any) -> None:
    labels = ",".join(f"{k}={v}" for k, v in change.labels.items())
    subject = f"{change.subject}{{{labels}}}" if labels else change.subject
    stamp = time.strftime("%H:%M:%S", time.localtime(change.at))
    output.stdout().print(f"{stamp} {subject} {change.kind.value}: {change.reason}", markup=False,
                          highlight=False)


@app.command("eval")
def evaluate(
    rules: list[Path] = RulePaths,
    database: bool = typer.Option(True, help="Probe the configured database."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Sample once and evaluate every rule, showing each rule's state and reason; sends nothing.

    Example: erpops monitor eval --json
    """
    from monitor.bootstrap import evaluate_once
    from monitor.settings import load_monitor_settings

    result = evaluate_once(load_monitor_settings(**({"rules": rules} if rules else {})), database)
    rows = [{"rule": e.rule, "state": e.state.value, "reason": e.reason} for e in result.evaluations]
    output.render(rows, as_json, lambda r: output.table("rule evaluations", ["rule", "state", "reason"],
                                                        [tuple(d.values()) for d in r]))


@app.command("probe")
def probe(as_json: bool = output.JsonFlag) -> None:
    """Probe the configured database once: up, probe time, connections, locks, lag, dead tuples; exit 4 when down.

    Example: erpops monitor probe --json
    """
    from erpcore.db import make_engine
    from monitor.probes import database_up, probe_database

    result = probe_database(make_engine())
    rows = [{"name": s.labels["__name__"], "labels": _labels(s.labels), "value": s.value} for s in result.samples]
    output.render({"reason": result.reason, "samples": rows}, as_json, lambda r: output.table(
        r["reason"], ["metric", "labels", "value"], [tuple(d.values()) for d in r["samples"]]))
    if not database_up(result):
        raise Unavailable(result.reason)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")


@rules_app.command("list")
def rules_list(rules: list[Path] = RulePaths, as_json: bool = output.JsonFlag) -> None:
    """List the alerting rules with their condition, `for`, severity and runbook link.

    Example: erpops monitor rules list --json
    """
    from monitor.operations import rule_rows

    data = rule_rows(rules or None)
    output.render(data, as_json, lambda rows: output.table(
        "alerting rules", ["alert", "condition", "resolve at", "for (s)", "severity", "runbook"],
        [(d["alert"], f"{d['expr']} {d['op']} {d['threshold']:g}", d["resolve_threshold"], d["for"],
          d["severity"], d["runbook_url"]) for d in rows]))


@rules_app.command("check")
def rules_check(rules: list[Path] = RulePaths, as_json: bool = output.JsonFlag) -> None:
    """Validate rule files (expressions, thresholds, durations, runbook_url); exit 2 when one is unusable.

    Example: erpops monitor rules check --rules my-rules.yaml
    """
    from monitor.rules import all_rules, load_rules

    count = len(all_rules(load_rules(rules or None)))
    output.render({"rules": count, "ok": True}, as_json, lambda r: f"{r['rules']} rules OK")


@rules_app.command("export")
def rules_export(
    rules: list[Path] = RulePaths,
    out: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    interval: str = typer.Option(None, help="Evaluation interval to set on every group, e.g. 15s."),
) -> None:
    """Write the rules as a Prometheus rule file (checked by `promtool check rules`).

    Example: erpops monitor rules export -o /etc/prometheus/rules/erpops.yml
    """
    from monitor.clock import parse_duration
    from monitor.export import export_rules
    from monitor.rules import load_rules
    from monitor.settings import load_monitor_settings

    with _usage():
        every = parse_duration(interval) if interval else None
    text = export_rules(load_rules(rules or None), every, load_monitor_settings().api_url)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text)
    except OSError as exc:
        raise UsageError(f"cannot write {out}: {exc.strerror or exc}") from None
    output.note(f"wrote {out}")


@contextmanager
def _usage() -> Iterator[None]:
    """Bad input named by the engine (a refused matcher, an unknown id) is a usage error: exit 2."""
    from erpcore.exceptions import NotFound, ValidationFailed

    try:
        yield
    except (ValidationFailed, NotFound, ValueError) as exc:
        raise UsageError(getattr(exc, "message", str(exc))) from None


@silence_app.command("add")
def silence_add(
    matchers: Annotated[list[str], typer.Argument(
        help='Matchers like alertname=HostOutOfDiskSpace instance=~"db.*".')],
    author: str = typer.Option(..., "--author", "-a", help="Who silences."),
    comment: str = typer.Option(..., "--comment", "-c", help="Why (a ticket, a maintenance)."),
    duration: str = typer.Option("1h", "--duration", "-d", help="How long, e.g. 30m, 2h (at most "
                                 "monitor.silence_max_duration, 7d by default)."),
    start_in: str = typer.Option("0s", help="Start later, e.g. 1h."),
    confirm_all_critical: bool = typer.Option(False, "--confirm-all-critical",
                                              help="Create it even though it mutes every critical alert."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Mute alerts matching every matcher for a time window, with an author and a comment.

    Example: erpops monitor silence add alertname=HostHighCpuLoad -a ana -c "reindex" -d 2h
    """
    from monitor.operations import create_silence

    with _usage():
        silence = create_silence(matchers, author, comment, duration=duration, start_in=start_in,
                                 confirm=confirm_all_critical)
    until = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(silence.endsAt))
    output.render(silence.to_dict(), as_json, lambda s: f"silence {s['id']} until {until}")


@silence_app.command("list")
def silence_list(
    expired: bool = typer.Option(False, "--expired", help="Include expired silences."),
    as_json: bool = output.JsonFlag,
) -> None:
    """List silences with their state, matchers, window, author and comment.

    Example: erpops monitor silence list --json
    """
    from monitor.operations import silence_store

    now = time.time()
    silences = [{**s.to_dict(), "state": s.state(now)} for s in silence_store().all()
                if expired or s.state(now) != "expired"]
    output.render(silences, as_json, _silence_table)


def _silence_table(silences: list[dict[str, Any]]) -> Any:
    def when(t: float) -> str:
        return time.strftime("%Y-%m-%d %H:%M", time.localtime(t))

    rows = [(s["id"], s["state"], " ".join(_matcher_text(m) for m in s["matchers"]), when(s["startsAt"]),
             when(s["endsAt"]), s["createdBy"], s["comment"]) for s in silences]
    return output.table("silences", ["id", "state", "matchers", "starts", "ends", "author", "comment"], rows)


def _matcher_text(m: dict[str, Any]) -> str:
    from monitor.silences import LabelMatcher

    return str(LabelMatcher(**m))


@silence_app.command("expire")
def silence_expire(silence_id: str = typer.Argument(..., help="The silence's id."),
                   as_json: bool = output.JsonFlag) -> None:
    """End a silence now.

    Example: erpops monitor silence expire 0c6f0a58-8d0e-4f7f-a0e4-5a1b2c3d4e5f
    """
    from monitor.operations import silence_store

    with _usage():
        silence = silence_store().expire(silence_id, time.time())
    output.render(silence.to_dict(), as_json, lambda s: f"silence {s['id']} expired")
