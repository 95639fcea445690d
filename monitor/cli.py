"""`erpops monitor`: Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer

from opskit import output

app = typer.Typer(help="Metrics, DB health probes, threshold alerting and Alertmanager-compatible webhooks.",
                  no_args_is_help=True)
rules_app = typer.Typer(help="The alerting rules: list, check, export for Prometheus.", no_args_is_help=True)
silence_app = typer.Typer(help="Silences: mute matching alerts for a time window.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
app.add_typer(silence_app, name="silence")

RulePaths = typer.Option(None, "--rules", help="Rule files or directories (default: the shipped rules).")


@app.command("run")
def run(
    interval: float = typer.Option(None, help="Seconds between evaluations (default from settings, >= 1)."),
    duration: float = typer.Option(None, help="Stop after this many seconds (default: run until Ctrl-C)."),
    ticks: int = typer.Option(None, help="Stop after this many evaluations."),
    scrape: list[str] = typer.Option([], help="Also scrape this /metrics URL each tick (repeatable)."),
    database: bool = typer.Option(True, help="Probe the configured database and read its alert events."),
    listen: bool = typer.Option(True, help="Serve /metrics on the configured listen host and port."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Sample host and database, evaluate every rule and notify, once per interval.

    Example: erpops monitor run --duration 60 --scrape http://127.0.0.1:8000/metrics
    """
    from monitor.bootstrap import build_monitor
    from monitor.service import MonitorCollector, TickResult
    from monitor.settings import load_monitor_settings

    settings = load_monitor_settings()
    engine = None
    if database:
        from erpcore.db import make_engine

        engine = make_engine()
    monitor = build_monitor(settings, engine, scrape=scrape)
    if listen:
        from prometheus_client import CollectorRegistry, start_http_server

        registry = CollectorRegistry()
        registry.register(MonitorCollector(monitor))
        start_http_server(settings.listen_port, settings.listen_host, registry)
    err = output.stderr()

    def show(result: TickResult) -> None:
        if as_json:
            line = {"at": result.at, "reason": result.reason, "seconds": round(result.seconds, 4),
                    "rules": {e.rule: {"state": e.state.value, "reason": e.reason} for e in result.evaluations}}
            sys.stdout.write(json.dumps(line) + "\n")
            sys.stdout.flush()
        else:
            err.print(f"{time.strftime('%H:%M:%S')} {result.reason}")

    try:
        monitor.run(interval or settings.interval, duration, ticks, show)
    except KeyboardInterrupt:
        pass
    finally:
        for worker in monitor.workers:
            worker.drain(5.0)
        monitor.stop()


@app.command("eval")
def evaluate(
    rules: list[Path] = RulePaths,
    database: bool = typer.Option(True, help="Probe the configured database."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Sample once and evaluate every rule, showing each rule's state and reason; sends nothing.

    Example: erpops monitor eval --json
    """
    from monitor.bootstrap import build_monitor
    from monitor.settings import load_monitor_settings

    settings = load_monitor_settings(**({"rules": rules} if rules else {}))
    engine = None
    if database:
        from erpcore.db import make_engine

        engine = make_engine()
    monitor = build_monitor(settings, engine, notifiers=[])
    monitor.events = None
    result = monitor.tick()
    monitor.stop()
    rows = [(e.rule, e.state.value, e.reason) for e in result.evaluations]
    if as_json:
        output.print_json([{"rule": r, "state": s, "reason": why} for r, s, why in rows])
        return
    output.stdout().print(output.table("rule evaluations", ["rule", "state", "reason"], rows))


@app.command("probe")
def probe(as_json: bool = output.JsonFlag) -> None:
    """Probe the configured database once: up, probe time, connections, locks, lag, dead tuples.

    Example: erpops monitor probe --json
    """
    from erpcore.db import make_engine
    from erpcore.exceptions import ErpError
    from monitor.probes import probe_database

    result = probe_database(make_engine())
    rows = [(s.labels["__name__"], _labels(s.labels), s.value) for s in result.samples]
    if as_json:
        output.print_json({"reason": result.reason, "samples": [
            {"name": n, "labels": lbl, "value": v} for n, lbl, v in rows]})
    else:
        output.stdout().print(output.table(result.reason, ["metric", "labels", "value"], rows))
    if not any(s.labels["__name__"] == "erpops_db_up" and s.value == 1 for s in result.samples):
        raise ErpError(result.reason)


def _labels(labels: dict[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(labels.items()) if k != "__name__")


@rules_app.command("list")
def rules_list(rules: list[Path] = RulePaths, as_json: bool = output.JsonFlag) -> None:
    """List the alerting rules with their condition, `for`, severity and runbook.

    Example: erpops monitor rules list --json
    """
    from monitor.rules import all_rules, load_rules

    loaded = all_rules(load_rules(rules or None))
    data = [{"alert": r.alert, "group": r.group, "expr": " ".join(r.expr.split()), "op": str(r.op),
             "threshold": r.threshold, "resolve_threshold": r.resolve_threshold, "for": r.for_,
             "keep_firing_for": r.keep_firing_for, "severity": r.severity, "no_data": r.no_data,
             "runbook_url": r.runbook_url} for r in loaded]
    if as_json:
        output.print_json(data)
        return
    rows = [(d["alert"], f"{d['expr']} {d['op']} {d['threshold']:g}", d["resolve_threshold"], d["for"],
             d["severity"], d["runbook_url"]) for d in data]
    output.stdout().print(output.table("alerting rules", ["alert", "condition", "resolve at", "for (s)",
                                                          "severity", "runbook"], rows))


@rules_app.command("check")
def rules_check(rules: list[Path] = RulePaths) -> None:
    """Validate rule files (expressions, thresholds, durations, runbook_url); exit 2 when one is unusable.

    Example: erpops monitor rules check --rules my-rules.yaml
    """
    from monitor.rules import all_rules, load_rules

    count = len(all_rules(load_rules(rules or None)))
    output.stderr().print(f"{count} rules OK")


@rules_app.command("export")
def rules_export(
    rules: list[Path] = RulePaths,
    out: Path = typer.Option(None, "--output", "-o", help="Write here instead of stdout."),
    interval: str = typer.Option(None, help="Evaluation interval to set on every group, e.g. 15s."),
) -> None:
    """Write the rules as a Prometheus rule file (checked by `promtool check rules`).

    Example: erpops monitor rules export -o /etc/prometheus/rules/erpops.yml
    """
    from monitor.clock import parse_duration
    from monitor.export import export_rules
    from monitor.rules import load_rules

    text = export_rules(load_rules(rules or None), parse_duration(interval) if interval else None)
    if out is None:
        sys.stdout.write(text)
    else:
        out.write_text(text)
        output.stderr().print(f"wrote {out}")


def _store() -> Any:
    from monitor.settings import load_monitor_settings
    from monitor.silences import SilenceStore

    return SilenceStore(load_monitor_settings().silences_path)


@silence_app.command("add")
def silence_add(
    matchers: list[str] = typer.Argument(..., help='Matchers like alertname=HostOutOfDiskSpace instance=~"db.*".'),
    author: str = typer.Option(..., "--author", "-a", help="Who silences."),
    comment: str = typer.Option(..., "--comment", "-c", help="Why (a ticket, a maintenance)."),
    duration: str = typer.Option("1h", "--duration", "-d", help="How long, e.g. 30m, 2h."),
    start_in: str = typer.Option("0s", help="Start later, e.g. 1h."),
    as_json: bool = output.JsonFlag,
) -> None:
    """Mute alerts matching every matcher for a time window, with an author and a comment.

    Example: erpops monitor silence add alertname=HostHighCpuLoad -a ana -c "reindex" -d 2h
    """
    from erpcore.exceptions import ValidationFailed
    from monitor.clock import parse_duration
    from monitor.silences import new_silence

    try:
        starts = time.time() + parse_duration(start_in)
        ends = starts + parse_duration(duration)
    except ValueError as exc:
        raise ValidationFailed(str(exc)) from None
    silence = _store().add(new_silence(matchers, starts, ends, author, comment))
    if as_json:
        output.print_json(silence.to_dict())
    else:
        output.stdout().print(f"silence {silence.id} until {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(ends))}")


@silence_app.command("list")
def silence_list(
    expired: bool = typer.Option(False, "--expired", help="Include expired silences."),
    as_json: bool = output.JsonFlag,
) -> None:
    """List silences with their state, matchers, window, author and comment.

    Example: erpops monitor silence list --json
    """
    now = time.time()
    silences = [s for s in _store().all() if expired or s.state(now) != "expired"]
    if as_json:
        output.print_json([{**s.to_dict(), "state": s.state(now)} for s in silences])
        return
    fmt = "%Y-%m-%d %H:%M"
    rows = [(s.id, s.state(now), " ".join(str(m) for m in s.matchers), time.strftime(fmt, time.localtime(s.startsAt)),
             time.strftime(fmt, time.localtime(s.endsAt)), s.createdBy, s.comment) for s in silences]
    output.stdout().print(output.table("silences", ["id", "state", "matchers", "starts", "ends", "author",
                                                    "comment"], rows))


@silence_app.command("expire")
def silence_expire(silence_id: str = typer.Argument(..., help="The silence's id.")) -> None:
    """End a silence now.

    Example: erpops monitor silence expire 0c6f0a58-8d0e-4f7f-a0e4-5a1b2c3d4e5f
    """
    silence = _store().expire(silence_id, time.time())
    output.stderr().print(f"silence {silence.id} expired")
