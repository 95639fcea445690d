"""`erpops failover`: Failover drills under live ERP load that measure RTO and RPO."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opskit.output import JsonFlag, print_json, stderr, stdout, table
from failover.types import EngineName, Fault, LoadName

if TYPE_CHECKING:
    from failover.drill import DrillResult

app = typer.Typer(help="Failover drills under live ERP load that measure RTO and RPO.", no_args_is_help=True)
lab_app = typer.Typer(help="A primary and a synchronous standby on loopback, for demos and drills.",
                      no_args_is_help=True)
app.add_typer(lab_app, name="lab")


@app.command()
def drill(
    engine: Annotated[EngineName, typer.Option("--engine", "-e", help="HA engine to drill.")] = EngineName.MANUAL,
    fault: Annotated[Fault, typer.Option("--fault", help="kill (-9 of PostgreSQL), crash (node), hang (SIGSTOP), isolate (nftables), switchover.")] = Fault.KILL,
    repeat: Annotated[int, typer.Option("--repeat", "-n", min=1, max=50, help="Drills in a row (roles alternate).")] = 1,
    under_load: Annotated[str, typer.Option("--under-load", help="builtin (SQL writer threads) or o2c (sales orders through the ERP API).")] = "builtin",
    clients: Annotated[int | None, typer.Option("--clients", help="Writer threads (default from settings).")] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Where the JSON and Markdown reports go.")] = None,
    skip_checkpoint: Annotated[bool, typer.Option("--skip-checkpoint",
                                         help="Training: promote without CHECKPOINT (the pg_rewind trap).")] = False,
    ballast_rows: Annotated[int, typer.Option("--ballast-rows", help="Rows written just before the fault.")] = 0,
    erp: Annotated[bool, typer.Option("--erp-check/--no-erp-check",
                                      help="Migrate + seed the ERP on the lab; `erpops check` after.")] = True,
    no_alert: Annotated[bool, typer.Option("--no-alert", help="Do not raise an alert event when a drill fails.")] = False,
    as_json: bool = JsonFlag,
) -> None:
    """Fail the primary under load, fail over, count lost commits, rejoin the old primary, report.

    Example: erpops failover drill --engine manual --fault kill --repeat 5
    """
    from failover.drill import DrillConfig, LoadFactory, builtin_writer, run_drill
    from failover.engines import build_engine
    from failover.report import report_document, write_reports
    from failover.settings import load_failover_settings
    from failover.types import FailoverFailed

    settings = load_failover_settings()
    if under_load not in {str(name) for name in LoadName}:  # checked here: one clear line, exit code 1
        raise FailoverFailed(f"unknown --under-load {under_load!r}; choose one of: {', '.join(LoadName)}")
    config = DrillConfig(
        fault=fault, clients=clients or settings.clients, warmup=settings.warmup_seconds,
        settle=settings.settle_seconds, recover_timeout=settings.recover_timeout,
        rejoin_timeout=settings.rejoin_timeout, rto_target=settings.rto_target, ballast_rows=ballast_rows,
        erp_check=erp,
    )
    ha = build_engine(engine, settings, skip_checkpoint)
    load_factory: LoadFactory = builtin_writer
    if under_load == LoadName.O2C:
        from failover.o2c import o2c_factory

        (report_dir or settings.report_dir).mkdir(parents=True, exist_ok=True)
        load_factory = o2c_factory(ha, report_dir or settings.report_dir)
    results: list[DrillResult] = []
    try:
        for i in range(repeat):
            stderr().print(f"[dim]drill {i + 1}/{repeat}: {fault} on {engine}…[/dim]")
            results.append(run_drill(ha, config, load_factory))
    finally:
        ha.close()
    targets = {"business_rto_seconds": config.rto_target, "lost_acknowledged": 0}
    document = report_document(results, targets)
    stem = f"drill-{engine}-{fault}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}"
    paths = write_reports(document, report_dir or settings.report_dir, stem)
    if as_json:
        print_json(document | {"reports": [str(p) for p in paths]})
    else:
        _render(results, document, paths)
    if not document["ok"]:
        if not no_alert:
            _alert(results)
        raise FailoverFailed(f"{sum(not r.ok for r in results)} of {len(results)} drills failed their targets")


def _alert(results: list[DrillResult]) -> None:
    from erpcore.db import make_engine
    from failover.drill import alert_failures

    try:
        target = make_engine()
        try:
            alert_failures(target, results)
        finally:
            target.dispose()
    except Exception as exc:  # noqa: BLE001 - the drill's verdict matters more than its alert
        stderr().print(f"[yellow]alert event not recorded: {type(exc).__name__}: {exc}[/yellow]")


def _render(results: list[DrillResult], document: dict[str, Any], paths: tuple[Path, Path]) -> None:
    out = stdout()
    for i, result in enumerate(results, start=1):
        start = result.events[0].at if result.events else 0.0
        timeline = [(f"{e.at - start:7.3f}", e.mark, e.reason) for e in result.events]
        title = (f"drill {i}: {result.fault} {result.old_primary} → {result.new_primary or '?'} — "
                 f"{'[green]ok[/green]' if result.ok else '[red]FAILED[/red]'}")
        out.print(table(title, ["+s", "point", "reason"], timeline))
        if result.check is not None:
            out.print(f"  erpops check on {result.new_primary}: {result.check['checked']} invariants, "
                      f"{result.check['violations']} violations")
        for failure in result.failures:
            out.print(f"  [red]✗[/red] {failure}")
    summary = document["summary"]
    rows: list[tuple[Any, ...]] = [
        (name, s["n"], s["p50"], s["p95"], s["max"]) for name, s in summary["seconds"].items() if s["n"]
    ]
    out.print(table(f"summary over {summary['drills']} drills (seconds after the fault)",
                    ["point", "n", "p50", "p95", "max"], rows))
    out.print(f"acknowledged {summary['acked']}, lost {summary['lost_acknowledged']}, in doubt "
              f"{summary['in_doubt']}; passed {summary['passed']}/{summary['drills']}")
    out.print(f"reports: {paths[0]}  {paths[1]}")


@app.command()
def status(
    lab: Annotated[Path, typer.Option("--lab", help="Directory (or lab.json) of a lab started by `lab up`.")],
    as_json: bool = JsonFlag,
) -> None:
    """Show the topology: every member's role, timeline, sync state and replay lag.

    Example: erpops failover status --lab var/failover-lab
    """
    from failover.engines.manual import ManualEngine
    from failover.lab import load_lab

    members = ManualEngine(load_lab(lab)).members()
    if as_json:
        print_json({"members": members})
        return
    rows = [(m.name, m.port, m.role, m.pid, m.timeline, m.sync_state, m.lag_bytes, m.reason) for m in members]
    stdout().print(table("failover topology", ["member", "port", "role", "pid", "timeline", "sync", "lag bytes",
                                               "reason"], rows))


@app.command()
def init(
    engine: Annotated[EngineName, typer.Option("--engine", "-e", help="Only patroni writes a configuration.")] = (
        EngineName.PATRONI),
    start: Annotated[bool, typer.Option("--start/--no-start", help="Start etcd + 3 members on loopback.")] = False,
    as_json: bool = JsonFlag,
) -> None:
    """Write the tuned, documented Patroni configuration for a 3-member lab, and optionally start it.

    Example: erpops failover init --engine patroni --start
    """
    from failover.patroni_lab import create_patroni_lab
    from failover.types import FailoverFailed

    if engine is not EngineName.PATRONI:
        raise FailoverFailed("only --engine patroni has a configuration to write; manual needs none")
    lab = create_patroni_lab(start=start)
    data = {"dir": str(lab.base), "configs": [str(m.config) for m in lab.members], "started": start,
            "etcd": f"127.0.0.1:{lab.etcd_port}", "conninfo": lab.client_conninfo(),
            "pids": {"etcd": lab.etcd.pid if lab.etcd else None,
                     **{m.name: m.proc.pid if m.proc else None for m in lab.members}}}
    if start:
        data["lab"] = str(lab.save())
        lab.detach()
    if as_json:
        print_json(data)
    else:
        stdout().print(f"Patroni configuration in {data['dir']} ({', '.join(m.name for m in lab.members)})"
                       + (f"; running, clients: {data['conninfo']}" if start else ""))


@lab_app.command("up")
def lab_up(
    parent: Annotated[Path | None, typer.Option("--parent", help="Create the lab under this directory.")] = None,
    as_json: bool = JsonFlag,
) -> None:
    """Create a primary and a synchronous standby on free loopback ports and leave them running.

    Example: erpops failover lab up --parent var
    """
    from failover.lab import create_pair, make_base_dir

    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    lab = create_pair(make_base_dir(parent.resolve() if parent else None))
    path = lab.save()
    data = {"lab": str(path), "conninfo": lab.client_conninfo(), "nodes": [n.to_dict() for n in lab.nodes]}
    lab.detach()
    if as_json:
        print_json(data)
    else:
        stdout().print(f"lab ready: {path}\nclients: {data['conninfo']}")


@lab_app.command("down")
def lab_down(lab: Annotated[Path, typer.Option("--lab", help="Directory (or lab.json) of the lab.")]) -> None:
    """Stop a lab's servers by their PIDs and remove its directory.

    Example: erpops failover lab down --lab /tmp/erpops-failover-abc123
    """
    from failover.lab import stop_saved_lab

    pids = stop_saved_lab(lab)
    stdout().print(f"stopped postmasters {', '.join(map(str, pids)) or '(none running)'}")
