"""`erpops loadtest`: Locust load suites for the ERP with SLO gates that fail CI."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from opskit import output

if TYPE_CHECKING:
    from rich.console import RenderableType

    from loadtest.harness import Verdict
    from loadtest.runner import Progress
    from loadtest.slo import Slo
    from loadtest.worker import WorkerResult

EXIT_CODES = ("Exit codes: 0 pass; 1 SLO breached, requests failed or `erpops check` failed after the run; "
              "2 bad options or SLO file (nothing run); 4 harness failure (server, Locust or workers failed, or "
              "the generator was saturated); 130/143 interrupted, everything stopped and the run's tokens revoked.")
SUITES = "o2c, p2p, browse, reports, day, month-end, production"  # loadtest.options.SUITES, not imported: --help stays fast
SHAPES = "ramp, step, spike, soak, month-end, arrival"
DEFAULT_MASTER_PORT = 5557

app = typer.Typer(help="Locust load suites for the ERP with SLO gates that fail CI.\n\n"
                       "Example: erpops loadtest run --suite o2c --users 20 --run-time 30s --slo loadtest/slo.yaml",
                  no_args_is_help=True)
slo_app = typer.Typer(help="SLO files: the gates of `erpops loadtest run --slo FILE`.\n\n"
                           "Example: erpops loadtest slo check loadtest/slo.yaml", no_args_is_help=True)
app.add_typer(slo_app, name="slo")


@app.command("run", epilog=EXIT_CODES)
def run(
    suite: Annotated[str | None, typer.Option(help=f"One of: {SUITES} (default o2c).")] = None,
    shape: Annotated[str | None, typer.Option(help=f"One of: {SHAPES} (default ramp).")] = None,
    users: Annotated[int | None, typer.Option(help="Peak users (default 10).", min=1)] = None,
    run_time: Annotated[str | None, typer.Option(help="Run time, e.g. 60s, 5m (default 60s).")] = None,
    slo: Annotated[Path | None, typer.Option(help="SLO YAML file with the thresholds (example: loadtest/slo.yaml).")]
    = None,
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
        help="Seconds the master waits for all remote workers before the run fails with exit 4.", min=1.0)] = 60.0,
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
    quiet: bool = output.QuietFlag,
) -> None:
    """Run a suite headless under a load shape and gate it by the SLO; a progress line on stderr every 5 s.

    The run creates its own customers, items and tokens (named with its run id) in the server's database and
    revokes its tokens when it ends, however it ends. With --remote-workers N the master also waits (up to
    --remote-wait seconds, else exit 4) for N workers that other machines start with
    `erpops loadtest worker --master-host THIS_HOST`; the verdict lists each worker with its requests.

    Example: erpops loadtest run --suite o2c --shape ramp --users 20 --run-time 30s --slo loadtest/slo.yaml
    """
    from loadtest.harness import run as run_load
    from loadtest.options import resolve

    options = resolve(suite=suite, shape=shape, users=users, run_time=run_time, profile=profile, out=out, slo=slo,
                      locustfile=locustfile, baseline=baseline, workers=workers, remote_workers=remote_workers,
                      master_bind_host=master_bind_host, master_port=master_port, steps=steps, rate=rate, pace=pace,
                      host=host, token=token, database_url=database_url, inject_errors=inject_errors,
                      timeout_s=timeout, remote_wait_s=remote_wait)
    if not quiet:
        output.note(f"loadtest: suite {options.suite}, {options.shape.kind} to {options.shape.users} users for "
                    f"{options.shape.run_time_s:g}s, reports in {options.out_dir}")
        if options.remote_workers:
            output.note(f"loadtest: the master waits up to {remote_wait:g}s for {options.remote_workers} remote "
                        f"worker(s) on {options.master_bind_host}:{options.master_port}")
    verdict = run_load(options, on_progress=None if quiet else _show_progress)
    output.render(verdict.to_json() if as_json else verdict, as_json, _verdict_view)
    raise typer.Exit(verdict.exit_code)


def _show_progress(p: Progress) -> None:
    p95 = "-" if p.p95_ms is None else f"{p.p95_ms:.0f} ms"
    output.note(f"loadtest: {p.elapsed_s:5.0f}s  users {p.users}  rps {p.rps:.1f}  p95 {p95}  "
                f"failures {p.failures} of {p.requests}")


def _verdict_view(verdict: Verdict) -> RenderableType:
    from rich.console import Group

    parts: list[RenderableType] = []
    rows = [("PASS" if t.ok else "FAIL", t.selector, t.expression,
             "" if t.observed is None else round(t.observed, 4), t.reason) for t in verdict.thresholds]
    if rows:
        parts.append(output.table("SLO thresholds", ["result", "selector", "threshold", "observed", "why"], rows))
    cpu = ", ".join(f"{p.role} {p.mean:.0%} (peak {p.peak:.0%})" for p in verdict.generator)
    parts.append(f"requests {verdict.requests}, failed {verdict.failures}, checks {verdict.checks}, "
                 f"failed checks {verdict.check_failures}; generator CPU {cpu or 'n/a'}")
    if verdict.workers:
        parts.append("workers: " + ", ".join(f"{w['name']}{' (remote)' if w['remote'] else ''} "
                                             f"{w['requests']} requests" for w in verdict.workers))
    if verdict.database_check:
        parts.append(f"erpops check after the run: {'ok' if verdict.database_check['ok'] else 'FAILED'}")
    if verdict.tokens:
        parts.append(f"run {verdict.run_id}: {verdict.tokens['created']} tokens created, "
                     f"{verdict.tokens['revoked']} revoked")
    style = "green" if verdict.exit_code == 0 else "red"
    parts.append(f"[bold {style}]{verdict.outcome}[/] (exit {verdict.exit_code}): {_escape(verdict.reason)}")
    parts.append(f"report: {verdict.files.get('html', '-')}  verdict: {verdict.files['verdict']}")
    return Group(*parts)


def _escape(text: str) -> str:
    """Rich would read `[id]` in `POST /sales-orders/[id]/approve` as markup and drop it."""
    from rich.markup import escape

    return escape(text)


@slo_app.command("check", epilog="Exit codes: 0 the file is valid; 2 it is not (one `error:` line names the key).")
def slo_check(
    file: Annotated[Path, typer.Argument(help="The SLO YAML file, e.g. loadtest/slo.yaml.")],
    as_json: bool = output.JsonFlag,
) -> None:
    """Check an SLO file as a run would read it (and its baseline, if it names one), without running anything.

    Example: erpops loadtest slo check loadtest/slo.yaml
    """
    from loadtest.slo import check_slo

    slo = check_slo(file)
    result = {"file": str(file), "ok": True, "baseline": slo.baseline, "thresholds": list(slo.thresholds)}
    output.render(result if as_json else slo, as_json, _slo_view)


def _slo_view(slo: Slo) -> RenderableType:
    from rich.console import Group

    rows = [(t.selector, t.expression, "yes" if t.abort_on_fail else "") for t in slo.thresholds]
    base = f"; baseline {slo.baseline}" if slo.baseline else ""
    return Group(output.table(None, ["selector", "threshold", "abort on fail"], rows),
                 f"ok: {len(slo.thresholds)} thresholds over {len(slo.selectors)} selectors{_escape(base)}")


@app.command("worker", epilog="Exit codes: 0 served a run; 2 bad options; 4 no run came within --wait, or Locust "
                              "failed; 130/143 interrupted, Locust stopped.")
def worker(
    master_host: Annotated[str, typer.Option(help="Host of the master (`erpops loadtest run --remote-workers`).")],
    master_port: Annotated[int, typer.Option(help="Port of the master.", min=1, max=65535)] = DEFAULT_MASTER_PORT,
    name: Annotated[str | None, typer.Option(help="This worker's name in the verdict (default host-pid).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the master to start a run (else exit 4).",
                                        min=1.0)] = 300.0,
    locustfile: Annotated[Path | None, typer.Option(help="The master's own locustfile, if it runs one.")] = None,
    log: Annotated[Path | None, typer.Option(help="Write Locust's output to this file.")] = None,
    as_json: bool = output.JsonFlag,
    quiet: bool = output.QuietFlag,
) -> None:
    """Run one Locust worker for a remote master: it gets the suite, shape and data from the master and exits
    when the run ends (0), or exits 4 if no run comes within --wait or Locust fails. The master gates the run.

    Example: erpops loadtest worker --master-host 10.0.0.5 --master-port 5557
    """
    from loadtest.worker import run_worker

    if not quiet:
        output.note(f"loadtest worker: waiting up to {wait:g}s for a run from {master_host}:{master_port}")
    result = run_worker(master_host, master_port, name=name, locustfile=locustfile, wait_s=wait, log_path=log)
    output.render(result.to_json() if as_json else result, as_json, _worker_view)
    raise typer.Exit(result.exit_code)


def _worker_view(result: WorkerResult) -> str:
    return (f"worker {result.name} served the run of {result.master}: {result.requests} requests, "
            f"{result.failures} failed, CPU {result.cpu_s:.1f}s in {result.duration_s:.0f}s")
