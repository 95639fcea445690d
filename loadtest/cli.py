"""`erpops loadtest`: Locust load suites for the ERP with SLO gates that fail CI."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any

import typer

from opskit import output

app = typer.Typer(help="Locust load suites for the ERP with SLO gates that fail CI.", no_args_is_help=True)

SUITES = ("o2c", "p2p", "browse", "reports", "day", "month-end")
SHAPES = ("ramp", "step", "spike", "soak", "month-end", "arrival")
CI_SLO = """\
# The CI profile's gates: generous latency on a shared 2-core runner, strict on errors and content.
thresholds:
  global:
    - p(95) < 2000
    - rate(errors) < 0.01
    - rate(checks) > 0.99
  order_to_cash:
    - p(95) < 10000
"""
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"suite": "day", "shape": "ramp", "users": 6, "run_time": "40s"},
}
DEFAULTS: dict[str, Any] = {"suite": "o2c", "shape": "ramp", "users": 10, "run_time": "60s"}
DEFAULT_MASTER_PORT = 5557  # Locust's


def _pick(name: str, given: Any, profile: str | None) -> Any:
    if given is not None:
        return given
    if profile is not None and name in PROFILES[profile]:
        return PROFILES[profile][name]
    return DEFAULTS[name]


@app.command("run")
def run(
    suite: Annotated[str | None, typer.Option(help=f"One of: {', '.join(SUITES)} (default o2c).")] = None,
    shape: Annotated[str | None, typer.Option(help=f"One of: {', '.join(SHAPES)} (default ramp).")] = None,
    users: Annotated[int | None, typer.Option(help="Peak users (default 10).", min=1)] = None,
    run_time: Annotated[str | None, typer.Option(help="Run time, e.g. 60s, 5m (default 60s).")] = None,
    slo: Annotated[Path | None, typer.Option(help="SLO YAML file with the thresholds.")] = None,
    host: Annotated[str | None, typer.Option(help="API base URL; default: start a server on the database.")] = None,
    token: Annotated[str | None, typer.Option(help="Admin token for --host (all roles use it).")] = None,
    database_url: Annotated[str | None, typer.Option(help="Database of the server (default: configured).")] = None,
    workers: Annotated[int, typer.Option(help="Local Locust workers under a master (0: one process).", min=0)] = 0,
    remote_workers: Annotated[int, typer.Option(
        help="Also wait for this many workers started elsewhere with `erpops loadtest worker`.", min=0)] = 0,
    master_bind_host: Annotated[str | None, typer.Option(
        help="Interface the master listens on for workers (default 127.0.0.1; 0.0.0.0 for other machines: "
             "workers receive the run's tokens, so only on a trusted network).")] = None,
    master_port: Annotated[int | None, typer.Option(
        help=f"Port the master listens on for workers (default {DEFAULT_MASTER_PORT} with --remote-workers, "
             "else a free one).", min=1, max=65535)] = None,
    remote_wait: Annotated[float, typer.Option(
        help="Seconds the master waits for all remote workers before the run fails with exit 2.", min=1.0)] = 60.0,
    profile: Annotated[str | None, typer.Option(help="Preset: ci (mixed day, ramp, 6 users, 40 s, CI gates).")] = None,
    out: Annotated[Path | None, typer.Option(help="Output folder (default var/loadtest/<time>).")] = None,
    rate: Annotated[float, typer.Option(help="Arrival shape: task iterations per second.")] = 0.0,
    pace: Annotated[float, typer.Option(help="Arrival shape: seconds between one user's iterations.")] = 1.0,
    steps: Annotated[int, typer.Option(help="Step shape: number of steps.", min=1)] = 4,
    baseline: Annotated[Path | None, typer.Option(help="A previous verdict.json for relative gates.")] = None,
    locustfile: Annotated[Path | None, typer.Option(help="Your own locustfile instead of the suites.")] = None,
    inject_errors: Annotated[float, typer.Option(help="Send this fraction of requests with a bad token.",
                                                 min=0.0, max=1.0)] = 0.0,
    timeout: Annotated[float | None, typer.Option(help="Hard timeout in seconds (default run time + 60).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Run a suite headless under a load shape, gate it by the SLO and exit 0 pass, 3 breach, 1 errors, 2 harness.

    With --remote-workers N the master also waits (up to --remote-wait seconds, else exit 2) for N workers
    that other machines start with `erpops loadtest worker --master-host THIS_HOST`; the master sends
    them the suite, shape and data, and the verdict lists each worker with its requests.

    Example: erpops loadtest run --suite o2c --shape ramp --users 50 --run-time 60s --slo slo.yaml
    """
    from erpcore.exceptions import ConfigError
    from loadtest.harness import RunOptions
    from loadtest.harness import run as run_load
    from loadtest.shapes import ShapeKind, ShapeSpec, parse_duration

    if profile is not None and profile not in PROFILES:
        raise ConfigError(f"unknown profile {profile!r}; one of: {', '.join(PROFILES)}")
    chosen_suite, chosen_shape = _pick("suite", suite, profile), _pick("shape", shape, profile)
    if chosen_suite not in SUITES and locustfile is None:
        raise ConfigError(f"unknown suite {chosen_suite!r}; one of: {', '.join(SUITES)}")
    if chosen_shape not in SHAPES:
        raise ConfigError(f"unknown shape {chosen_shape!r}; one of: {', '.join(SHAPES)}")
    if (master_bind_host is not None or master_port is not None) and workers + remote_workers == 0:
        raise ConfigError("--master-bind-host and --master-port need --workers or --remote-workers")
    if master_port is None and remote_workers:
        master_port = DEFAULT_MASTER_PORT
    out = out or Path("var/loadtest") / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    if slo is None and profile == "ci":
        out.mkdir(parents=True, exist_ok=True)
        slo = out / "slo.yaml"
        slo.write_text(CI_SLO)
    spec = ShapeSpec(ShapeKind(chosen_shape), _pick("users", users, profile),
                     parse_duration(_pick("run_time", run_time, profile)), steps, rate, pace)
    options = RunOptions(chosen_suite, spec, out, slo, host, token, database_url, workers, locustfile, inject_errors,
                         baseline, timeout, remote_workers, master_bind_host or "127.0.0.1", master_port,
                         remote_wait)
    output.stderr().print(f"loadtest: suite [bold]{chosen_suite}[/], {spec.kind} to {spec.users} users for "
                          f"{spec.run_time_s:.0f}s, reports in {out}")
    if remote_workers:
        output.stderr().print(f"loadtest: the master waits up to {remote_wait:g}s for {remote_workers} remote "
                              f"worker(s) on {options.master_bind_host}:{master_port}")
    verdict = run_load(options)
    if as_json:
        output.print_json(verdict.to_json())
    else:
        _render(verdict)
    raise typer.Exit(verdict.exit_code)


def _render(verdict: Any) -> None:
    console = output.stdout()
    rows = [("PASS" if t.ok else "FAIL", t.selector, t.expression,
             "" if t.observed is None else round(t.observed, 4), t.reason) for t in verdict.thresholds]
    if rows:
        console.print(output.table("SLO thresholds", ["result", "selector", "threshold", "observed", "why"], rows))
    cpu = ", ".join(f"{p.role} {p.mean:.0%} (peak {p.peak:.0%})" for p in verdict.generator)
    console.print(f"requests {verdict.requests}, failed {verdict.failures}, checks {verdict.checks}, "
                  f"failed checks {verdict.check_failures}; generator CPU {cpu or 'n/a'}")
    if verdict.workers:
        console.print("workers: " + ", ".join(f"{w['name']}{' (remote)' if w['remote'] else ''} "
                                              f"{w['requests']} requests" for w in verdict.workers))
    if verdict.database_check:
        console.print(f"erpops check after the run: {'ok' if verdict.database_check['ok'] else 'FAILED'}")
    style = "green" if verdict.exit_code == 0 else "red"
    console.print(f"[bold {style}]{verdict.outcome}[/] (exit {verdict.exit_code}): {verdict.reason}")
    console.print(f"report: {verdict.files.get('html', '-')}  verdict: {verdict.files['verdict']}")


@app.command("worker")
def worker(
    master_host: Annotated[str, typer.Option(help="Host of the master (`erpops loadtest run --remote-workers`).")],
    master_port: Annotated[int, typer.Option(help="Port of the master.", min=1, max=65535)] = DEFAULT_MASTER_PORT,
    name: Annotated[str | None, typer.Option(help="This worker's name in the verdict (default host-pid).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the master to start a run (else exit 2).",
                                        min=1.0)] = 300.0,
    locustfile: Annotated[Path | None, typer.Option(help="The master's own locustfile, if it runs one.")] = None,
    log: Annotated[Path | None, typer.Option(help="Write Locust's output to this file.")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Run one Locust worker for a remote master: it gets the suite, shape and data from the master and exits
    when the run ends (0), or exits 2 if no run comes within --wait or Locust fails. The master gates the run.

    Example: erpops loadtest worker --master-host 10.0.0.5 --master-port 5557
    """
    from loadtest.worker import run_worker

    output.stderr().print(f"loadtest worker: waiting up to {wait:g}s for a run from {master_host}:{master_port}")
    result = run_worker(master_host, master_port, name=name, locustfile=locustfile, wait_s=wait, log_path=log)
    if as_json:
        output.print_json(result.to_json())
    else:
        output.stdout().print(f"worker {result.name} served the run of {result.master}: {result.requests} requests, "
                              f"{result.failures} failed, CPU {result.cpu_s:.1f}s in {result.duration_s:.0f}s")
    raise typer.Exit(result.exit_code)
