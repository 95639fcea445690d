"""`erpops failover`: Failover drills under live ERP load that measure RTO and RPO.

Every command parses, calls one engine function and renders its result (a table, or JSON with `--json`);
progress goes to stderr. Exit codes: 0 ok, 1 a drill failed its targets or a promotion was refused,
2 bad arguments, 4 a lab could not start, 130/143 interrupted (after stopping everything it started).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from failover.types import EngineName, Fault, LoadName, Progress
from opskit import output
from opskit.exitcodes import table_text
from opskit.output import JsonFlag, QuietFlag

if TYPE_CHECKING:
    from rich.console import RenderableType

    from failover.campaign import CampaignResult
    from failover.engines.base import Member
    from failover.promote import PromoteResult

app = typer.Typer(help="Failover drills under live ERP load that measure RTO and RPO.\n\n"
                       "Example: erpops failover drill --engine manual --fault kill --repeat 3", no_args_is_help=True,
                  epilog=table_text())
lab_app = typer.Typer(help="A primary and a synchronous standby on loopback, for demos and drills.\n\n"
                           "Example: erpops failover lab up --dir var/lab",
                      no_args_is_help=True)
app.add_typer(lab_app, name="lab")
LabOption = Annotated[Path, typer.Option("--lab", help="Directory (or lab.json) of a lab started by `lab up`.")]


def _progress(quiet: bool) -> Progress:
    return (lambda line: None) if quiet else output.note


@app.command()
def drill(
    engine: Annotated[EngineName, typer.Option("--engine", "-e", help="HA engine to drill.")] = EngineName.MANUAL,
    fault: Annotated[Fault, typer.Option("--fault", help="kill (-9 of PostgreSQL), crash (node), hang (SIGSTOP), isolate (nftables), switchover.")] = Fault.KILL,
    repeat: Annotated[int, typer.Option("--repeat", "-n", min=1, max=50, help="Drills in a row (roles alternate).")] = 1,
    under_load: Annotated[LoadName, typer.Option("--under-load", help="builtin (SQL writer threads) or o2c (sales orders through the ERP API).")] = LoadName.BUILTIN,
    clients: Annotated[int | None, typer.Option("--clients", min=1, max=64, help="Writer threads (default from settings).")] = None,
    report_dir: Annotated[Path | None, typer.Option("--report-dir", help="Where the JSON and Markdown reports go.")] = None,
    skip_checkpoint: Annotated[bool, typer.Option("--skip-checkpoint",
                                         help="Training: promote without CHECKPOINT (the pg_rewind trap).")] = False,
    ballast_rows: Annotated[int, typer.Option("--ballast-rows", min=0, help="Rows written just before the fault.")] = 0,
    erp: Annotated[bool, typer.Option("--erp-check/--no-erp-check",
                                      help="Migrate + seed the ERP on the lab; `erpops check` after.")] = True,
    no_alert: Annotated[bool, typer.Option("--no-alert", help="Do not raise an alert event when a drill fails.")] = False,
    as_json: bool = JsonFlag,
    quiet: bool = QuietFlag,
) -> None:
    """Fail the primary under load, fail over, count lost commits, rejoin the old primary, report.

    Exit 0 when every drill met its targets, 1 when one failed (an alert event is raised), 4 when the lab
    could not start. SIGTERM or Ctrl-C stops the servers, agents and nftables tables it started (143/130).

    Example: erpops failover drill --engine manual --fault kill --repeat 5
    """
    from failover.campaign import CampaignRequest, run_campaign
    from failover.settings import load_failover_settings
    from failover.types import FailoverFailed

    request = CampaignRequest(engine, fault, repeat, under_load, clients, report_dir, skip_checkpoint,
                              ballast_rows, erp, not no_alert)
    result = run_campaign(request, load_failover_settings(), _progress(quiet))
    if as_json:
        output.print_json(result.to_dict())
    else:
        _render_campaign(result)
    if not result.ok:
        output.note(result.alert)
        raise FailoverFailed(result.reason)


def _render_campaign(result: CampaignResult) -> None:
    out = output.stdout()
    for i, drill in enumerate(result.results, start=1):
        start = drill.events[0].at if drill.events else 0.0
        timeline = [(f"{e.at - start:7.3f}", e.mark, e.reason) for e in drill.events]
        title = (f"drill {i}: {drill.fault} {drill.old_primary} → {drill.new_primary or '?'} — "
                 f"{'[green]ok[/green]' if drill.ok else '[red]FAILED[/red]'}")
        out.print(output.table(title, ["+s", "point", "reason"], timeline))
        if drill.check is not None:
            out.print(f"  erpops check on {drill.new_primary}: {drill.check['checked']} invariants, "
                      f"{drill.check['violations']} violations")
        for failure in drill.failures:
            out.print(f"  [red]✗[/red] {failure}", markup=True)
    summary = result.document["summary"]
    rows: list[tuple[Any, ...]] = [
        (name, s["n"], s["p50"], s["p95"], s["max"]) for name, s in summary["seconds"].items() if s["n"]
    ]
    out.print(output.table(f"summary over {summary['drills']} drills (seconds after the fault)",
                           ["point", "n", "p50", "p95", "max"], rows))
    out.print(f"acknowledged {summary['acked']}, lost {summary['lost_acknowledged']}, in doubt "
              f"{summary['in_doubt']}; {result.reason}", markup=False)
    out.print(f"reports: {result.reports[0]}  {result.reports[1]}", markup=False)


@app.command()
def status(lab: LabOption, as_json: bool = JsonFlag) -> None:
    """Show the topology: every member's role, timeline, sync state and replay lag.

    Example: erpops failover status --lab var/failover-lab
    """
    from failover.saved_lab import lab_status

    output.render({"members": lab_status(lab)}, as_json, _members_table)


def _members_table(data: dict[str, list[Member]]) -> RenderableType:
    rows = [(m.name, m.port, m.role, m.pid, m.timeline, m.sync_state, m.lag_bytes, m.reason)
            for m in data["members"]]
    return output.table("failover topology", ["member", "port", "role", "pid", "timeline", "sync", "lag bytes",
                                              "reason"], rows)


@app.command()
def promote(
    lab: Annotated[Path | None, typer.Option("--lab", help="A lab started by `lab up`: promote its standby.")] = None,
    member: Annotated[str | None, typer.Option("--member", "-m", help="The lab member to promote (default: "
                                               "the lab's one standby).")] = None,
    standby: Annotated[str | None, typer.Option("--standby", help="libpq DSN of the standby to promote "
                                                "(default: the configured standby_dsn).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Promote even though a primary still answers "
                                        "(split brain: fence it yourself).")] = False,
    as_json: bool = JsonFlag,
) -> None:
    """Promote a standby to primary after the primary is lost (the PostgresqlDown runbook's step).

    Refuses (exit 1) when the target is not a standby in recovery or a primary still accepts writes;
    then clears synchronous_standby_names (unless strict_sync), promotes, proves a write and CHECKPOINTs.

    Example: erpops failover promote --lab var/failover-lab
    Example: erpops failover promote --standby "host=10.0.0.6 port=5432 user=postgres"
    """
    from failover.promote import promote as run_promote
    from failover.settings import load_failover_settings

    settings = load_failover_settings()
    target = _promote_target(lab, member, standby, settings.standby_dsn)
    result = run_promote(target, force, settings.strict_sync, settings.recover_timeout)
    output.render(result, as_json, _promoted)


def _promote_target(lab: Path | None, member: str | None, standby: str | None, configured: str | None) -> Any:
    from failover.promote import dsn_target, lab_target
    from failover.types import FailoverUsage

    if lab is not None and standby is not None:
        raise FailoverUsage("give either --lab or --standby, not both")
    if member is not None and lab is None:
        raise FailoverUsage("--member names a member of a lab: give --lab too")
    if lab is not None:
        return lab_target(lab, member)
    if standby is not None or configured is not None:
        return dsn_target(standby or configured or "", "--standby" if standby else "standby_dsn")
    raise FailoverUsage("nothing to promote: pass --lab DIR or --standby DSN, or set [failover] standby_dsn")


def _promoted(result: PromoteResult) -> RenderableType:
    return _plain("\n".join([*(f"  {step}" for step in result.steps), result.reason]))


def _plain(text: str) -> RenderableType:
    from rich.text import Text

    return Text(text)  # reasons quote PostgreSQL and paths: never read as rich markup


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
    from failover.patroni_lab import init_patroni_lab

    output.render(init_patroni_lab(engine, start), as_json, _initialized)


def _initialized(data: dict[str, Any]) -> RenderableType:
    running = f"; running, clients: {data['conninfo']}" if data["started"] else ""
    return _plain(f"Patroni configuration in {data['dir']} ({', '.join(map(str, data['configs']))}){running}")


@lab_app.command("up")
def lab_up(
    parent: Annotated[Path | None, typer.Option("--parent", help="Create the lab under this directory.")] = None,
    as_json: bool = JsonFlag,
) -> None:
    """Create a primary and a synchronous standby on free loopback ports and leave them running.

    Example: erpops failover lab up --parent var
    """
    from failover.saved_lab import lab_up as start_lab

    output.render(start_lab(parent), as_json, lambda up: _plain(f"lab ready: {up.lab}\nclients: {up.conninfo}"))


@lab_app.command("down")
def lab_down(lab: LabOption, as_json: bool = JsonFlag) -> None:
    """Stop a lab's servers by their PIDs and remove its directory.

    Example: erpops failover lab down --lab /tmp/erpops-failover-abc123
    """
    from failover.saved_lab import stop_saved_lab

    output.render(stop_saved_lab(lab), as_json, lambda down: _plain(down.reason))
