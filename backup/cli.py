"""`erpops backup`: Multi-site backups, verification, point-in-time restore and restore drills.

Exit codes: 0 ok, 1 failed (verify found damage, drill failed, restore impossible), 2 usage or
configuration, 3 backup written but degraded (some site failed).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from backup.errors import UsageError
from opskit import output

if TYPE_CHECKING:
    from backup.settings import BackupSettings
    from backup.sites.base import Site

EXIT_DEGRADED = 3

app = typer.Typer(
    help="Multi-site backups, verification, point-in-time restore and restore drills.", no_args_is_help=True
)

ConfigOpt = typer.Option(
    None, "--config", "-c", help="erpops.toml with a [backup] section (default: ERPOPS_CONFIG)."
)
SiteOpt = typer.Option(None, "--site", "-s", help="Only this site (repeatable).")
QuietOpt = typer.Option(False, "--quiet", "-q", help="No progress bars.")
RestoreToOpt = typer.Option(..., "--to", help="New data directory (PostgreSQL) or new file (SQLite).")
ScratchOpt = typer.Option(None, "--scratch", help="Directory for the scratch restores (default: temp).")
SpoolOpt = typer.Option(Path("var/backup-wal-spool"), help="Local directory pg_receivewal writes into.")
TablesOpt = typer.Option(..., "--table", "-t", help="Table to bring back (repeatable).")
DumpTableOpt = typer.Option(None, "--table", "-t", help="Only this table (repeatable; pg_restore -t).")
DumpSchemaOpt = typer.Option(None, "--schema", "-n", help="Only this schema (repeatable; pg_restore -n).")
WalPathArg = typer.Argument(..., help="The WAL file (%p).")
WalDestArg = typer.Argument(..., help="Where to write it (%p).")


def _load(config: Path | None, only: list[str] | None) -> tuple[BackupSettings, list[Site]]:
    from backup.settings import load_backup_settings
    from backup.sites import make_sites

    settings = load_backup_settings(config)
    return settings, make_sites(settings, only)


@contextlib.contextmanager
def _progress(
    names: list[str], quiet: bool, total: int | dict[str, int] | None = None
) -> Iterator[Callable[[str, int], None] | None]:
    """Progress bars on stderr: bytes, rate and ETA per site (ETA when the total is known or estimated)."""
    if quiet:
        yield None
        return
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    bars = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=output.stderr(),
        transient=True,
    )

    def total_of(name: str) -> int | None:
        return total.get(name) if isinstance(total, dict) else total

    tasks = {name: bars.add_task(name, total=total_of(name)) for name in names}

    def advance(name: str, n: int) -> None:
        if name not in tasks:
            tasks[name] = bars.add_task(name, total=total_of(name))
        bars.advance(tasks[name], n)

    with bars:
        yield advance


def _emit(as_json: bool, data: Any, title: str, columns: list[str], rows: list[list[Any]], note: str) -> None:
    if as_json:
        output.print_json(data)
        return
    output.stdout().print(output.table(title, columns, rows))
    output.stderr().print(note)


@app.command("create")
def create(
    label: str = typer.Option("", help="Free text stored in the manifest."),
    logical: bool = typer.Option(
        False,
        "--logical",
        help="A logical dump (pg_dump -Fd -j N) instead of a base backup: an extra for "
        "bringing back single tables or schemas with `erpops backup restore-dump`.",
    ),
    jobs: int = typer.Option(
        None, "--jobs", "-j", help="pg_dump workers for --logical (default: backup.dump_jobs)."
    ),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    quiet: bool = QuietOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Back up the ERP database once, writing the same bytes to every site concurrently.

    Example: erpops backup create --json
    Example: erpops backup create --logical --jobs 4 --label before-price-update
    """
    from backup.create import create_backup
    from backup.logical import create_logical

    if jobs is not None and not logical:
        raise UsageError("--jobs applies to --logical dumps only (pg_basebackup has no workers to set)")
    settings, sites = _load(config, site)
    total = None
    if not quiet and not logical:
        from backup.estimate import create_total

        total = create_total(settings.effective_database_url(), sites)
    with _progress([s.name for s in sites], quiet, total) as progress:
        if logical:
            result = create_logical(settings, sites, progress, label, jobs)
        else:
            result = create_backup(settings, sites, progress, label)
    m = result.manifest
    data = {
        "backup_id": m.backup_id,
        "kind": m.kind,
        "degraded": result.degraded,
        "sites": m.sites,
        "size": result.size,
        "files": len(m.files),
        "seconds": round(result.seconds, 3),
        "start_lsn": m.start_lsn,
        "end_lsn": m.end_lsn,
        "reason": result.reason,
    }
    rows = [[name, state, result.size if state == "ok" else ""] for name, state in m.sites.items()]
    _emit(as_json, data, f"backup {m.backup_id}", ["site", "state", "bytes"], rows, result.reason)
    if result.degraded:
        raise typer.Exit(EXIT_DEGRADED)


@app.command("list")
def list_backups(
    config: Path = ConfigOpt, site: list[str] = SiteOpt, as_json: bool = output.JsonFlag
) -> None:
    """List the backups found on the sites, oldest first.

    Example: erpops backup list --json
    """
    from backup.catalog import read_catalog

    _settings, sites = _load(config, site)
    catalog = read_catalog(sites, with_wal=False)
    data: list[dict[str, Any]] = [
        {
            "backup_id": e.backup_id,
            "engine": e.manifest.engine,
            "kind": e.manifest.kind,
            "finished_at": e.manifest.finished_at,
            "size": sum(f.size for f in e.manifest.files),
            "sites": e.sites,
            "degraded": e.manifest.degraded,
            "encrypted": e.manifest.key_id is not None,
            "start_lsn": e.manifest.start_lsn,
        }
        for e in catalog.backups
    ]
    rows = [
        [
            d["backup_id"],
            d["engine"],
            d["kind"],
            d["finished_at"],
            d["size"],
            ",".join(d["sites"]),
            d["degraded"],
        ]
        for d in data
    ]
    _emit(
        as_json,
        data,
        "backups",
        ["backup", "engine", "kind", "finished", "bytes", "sites", "degraded"],
        rows,
        f"{len(data)} backups" + (f"; unreachable: {catalog.unreachable}" if catalog.unreachable else ""),
    )


@app.command("status")
def status_cmd(
    metrics: bool = typer.Option(False, "--metrics", help="Print Prometheus metrics instead."),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Per site: newest backup, newest shipped WAL and RPO; `--metrics` for Prometheus.

    Example: erpops backup status --metrics > /var/lib/node_exporter/erpops_backup.prom
    """
    from backup.ops import metrics_text, status

    _settings, sites = _load(config, site)
    statuses = status(sites)
    if metrics:
        typer.echo(metrics_text(statuses), nl=False)
        return
    rows = [[s.site, s.reachable, s.backups, s.last_backup, s.last_wal, s.rpo_s] for s in statuses]
    _emit(
        as_json,
        statuses,
        "backup sites",
        ["site", "up", "backups", "newest", "newest WAL", "RPO s"],
        rows,
        f"{sum(s.reachable for s in statuses)} of {len(statuses)} sites reachable",
    )


@app.command("verify")
def verify_cmd(
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    quiet: bool = QuietOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Re-read every object on every site and check each backup's WAL chain; exit 1 on any damage.

    Example: erpops backup verify --json
    """
    from backup.catalog import read_catalog
    from backup.estimate import per_site_totals
    from backup.verify import verify

    _settings, sites = _load(config, site)
    catalog = read_catalog(sites)
    with _progress([s.name for s in sites], quiet, per_site_totals(catalog, sites)) as progress:
        report = verify(sites, progress, catalog)
    data = {
        "ok": report.ok,
        "reason": report.reason,
        "backups": report.backups,
        "bad": report.bad,
        "unreachable": report.unreachable,
        "objects": len(report.checks),
    }
    rows = [
        [b.backup_id, "good" if b.good else "BAD", ",".join(b.file_sites), ",".join(b.wal_sites), b.reason]
        for b in report.backups
    ]
    rows += [["", "DAMAGED", c.site, "", f"{c.key}: {c.reason}"] for c in report.bad]
    _emit(
        as_json,
        data,
        "verify",
        ["backup", "verdict", "file sites", "WAL sites", "reason"],
        rows,
        report.reason,
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command("restore")
def restore_cmd(
    to: Path = RestoreToOpt,
    backup_id: str = typer.Option(None, "--backup", help="Backup id (default: newest suitable)."),
    time: str = typer.Option(None, "--time", help="Recover to this time (ISO 8601)."),
    xid: str = typer.Option(None, "--xid", help="Recover to this transaction id."),
    name: str = typer.Option(
        None,
        "--name",
        help="Recover to this named restore point (every base backup writes erpops-<backup id>, where its integrity summary holds).",
    ),
    lsn: str = typer.Option(None, "--lsn", help="Recover to this WAL position."),
    immediate: bool = typer.Option(False, "--immediate", help="Stop as soon as the backup is consistent."),
    owner: str = typer.Option(
        None, "--owner", help="chown the data directory to this OS user (e.g. postgres)."
    ),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    quiet: bool = QuietOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Restore the newest backup, or to a point in time, from any site with a healthy copy.

    Example: erpops backup restore --to /var/lib/postgresql/15/restored --time '2025-03-01T12:00:00+00:00' --owner postgres
    """
    from backup.catalog import read_catalog
    from backup.restore import RecoveryTarget, restore_postgres, restore_sqlite

    settings, sites = _load(config, site)
    points = {k: v for k, v in {"time": time, "xid": xid, "name": name, "lsn": lsn}.items() if v}
    if len(points) + immediate > 1:
        raise UsageError("choose one of --time, --xid, --name, --lsn, --immediate")
    target = RecoveryTarget()
    if immediate:
        target = RecoveryTarget("immediate")
    elif points:
        kind, value = next(iter(points.items()))
        target = RecoveryTarget(kind, value)  # type: ignore[arg-type]
    engine = read_catalog(sites, with_wal=False).backup(backup_id).manifest.engine
    with _progress(["restore"], quiet) as progress:
        if engine == "sqlite":
            result = restore_sqlite(settings, sites, to, backup_id)
        else:
            result = restore_postgres(settings, sites, to, target, backup_id, owner, progress)
    rows: list[list[Any]] = [
        ["backup", result.backup_id],
        ["site", result.site],
        ["target", result.target],
        ["path", result.path],
        ["WAL files", result.wal_files],
        ["seconds", round(result.seconds, 3)],
    ]
    _emit(as_json, result, "restore", ["", ""], rows, result.reason)


@app.command("drill")
def drill_cmd(
    scratch: Path = ScratchOpt,
    seed: int = typer.Option(None, "--seed", help="Seed for the random point in time."),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Restore the newest backup and a random commit into scratch clusters, check them, report RTO and RPO.

    Example: erpops backup drill --json
    """
    from backup.drill import run_drill

    settings, sites = _load(config, site)
    report = run_drill(settings, sites, scratch, seed)
    data = {
        "ok": report.ok,
        "backup_id": report.backup_id,
        "rto_s": report.rto_s,
        "rpo_s": report.rpo_s,
        "reason": report.reason,
        "alert": report.alert,
        "steps": report.steps,
    }
    rows = [[s.name, "ok" if s.ok else "FAILED", s.seconds, s.detail] for s in report.steps]
    rows.append(["RTO / RPO", "", "", f"RTO {report.rto_s} s, RPO {report.rpo_s} s"])
    _emit(
        as_json,
        data,
        f"restore drill {report.backup_id}",
        ["step", "result", "seconds", "detail"],
        rows,
        report.reason + (f" ({report.alert})" if report.alert else ""),
    )
    if not report.ok:
        raise typer.Exit(1)


@app.command("wal-stream")
def wal_stream_cmd(
    spool: Path = SpoolOpt,
    slot: str = typer.Option("erpops_backup", help="Replication slot name."),
    seconds: float = typer.Option(0, help="Stop after this many seconds (0: until interrupted)."),
    config: Path = ConfigOpt,
) -> None:
    """Stream WAL with pg_receivewal and push every finished segment to every site.

    Example: erpops backup wal-stream --spool /var/lib/erpops/wal-spool
    """
    import time as _time

    from backup.walstream import WalStreamer

    settings, sites = _load(config, None)
    streamer = WalStreamer(
        settings.effective_database_url(), sites, spool, settings.key_bytes(), slot, settings.pg_bin_dir
    )
    streamer.start()
    began = _time.monotonic()
    try:
        while not seconds or _time.monotonic() - began < seconds:
            if streamer.proc is not None and streamer.proc.poll() is not None:
                break
            _time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        streamer.stop()
    output.stderr().print(
        f"pushed {len(streamer.stats.pushed)} WAL files, {len(streamer.stats.degraded)} degraded, "
        f"{len(streamer.stats.errors)} errors"
    )
    if streamer.stats.errors:
        raise typer.Exit(1)


@app.command("restore-table")
def restore_table_cmd(
    table: list[str] = TablesOpt,
    into_schema: str = typer.Option(
        ..., "--into-schema", help="New schema of the live database for the copies."
    ),
    time: str = typer.Option(None, "--time", help="As of this time (ISO 8601)."),
    name: str = typer.Option(None, "--name", help="As of this named restore point."),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Copy tables as they were at a point in time into a new schema beside the live ones.

    Example: erpops backup restore-table -t sales_order --time 2025-03-01T09:00:00+00:00 --into-schema so_0900
    """
    from backup.restore import RecoveryTarget
    from backup.tablerestore import restore_tables

    settings, sites = _load(config, site)
    target = (
        RecoveryTarget("time", time) if time else RecoveryTarget("name", name) if name else RecoveryTarget()
    )
    result = restore_tables(settings, sites, table, into_schema, target)
    rows: list[list[Any]] = [[f"{into_schema}.{t.split('.')[-1]}", n] for t, n in result.tables.items()]
    _emit(as_json, result, f"tables as of {result.target}", ["copy", "rows"], rows, result.reason)


@app.command("restore-dump")
def restore_dump_cmd(
    into_database: str = typer.Option(
        ..., "--into-database", help="New database on the live server to load into."
    ),
    table: list[str] = DumpTableOpt,
    schema: list[str] = DumpSchemaOpt,
    backup_id: str = typer.Option(None, "--backup", help="Logical backup id (default: the newest dump)."),
    jobs: int = typer.Option(None, "--jobs", "-j", help="pg_restore workers (default: backup.dump_jobs)."),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Load a logical dump, or only some tables or schemas of it, into a new database beside the live one.

    Example: erpops backup restore-dump --into-database erp_0900 -t sales_order -t sales_order_line --json
    """
    from backup.dumprestore import restore_dump

    settings, sites = _load(config, site)
    result = restore_dump(settings, sites, into_database, table or [], schema or [], backup_id, jobs)
    rows: list[list[Any]] = [[f"{into_database}.{t}", n] for t, n in result.tables.items()]
    _emit(
        as_json, result, f"dump {result.backup_id} -> {into_database}", ["table", "rows"], rows, result.reason
    )


@app.command("prune")
def prune_cmd(
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be deleted; delete nothing."),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Apply the retention policy per site; never deletes what a kept recovery window needs.

    Example: erpops backup prune --dry-run
    """
    from backup.ops import prune

    settings, sites = _load(config, site)
    results = prune(settings, sites, dry_run=dry_run)
    rows = []
    for r in results:
        rows += [[r.site, b, "keep", why] for b, why in r.plan.keep.items()]
        rows += [
            [r.site, b, "delete" if not dry_run else "would delete", why] for b, why in r.plan.delete.items()
        ]
        if r.plan.delete_wal:
            rows.append(
                [
                    r.site,
                    f"{len(r.plan.delete_wal)} WAL",
                    "delete" if not dry_run else "would delete",
                    f"before {r.plan.wal_floor}",
                ]
            )
    data = [
        {
            "site": r.site,
            "dry_run": dry_run,
            "keep": r.plan.keep,
            "delete": r.plan.delete,
            "delete_wal": r.plan.delete_wal,
            "wal_floor": r.plan.wal_floor,
            "reason": r.plan.reason,
            "deleted_objects": r.deleted_objects,
            "errors": r.errors,
        }
        for r in results
    ]
    _emit(
        as_json,
        data,
        "retention" + (" (dry run)" if dry_run else ""),
        ["site", "backup", "action", "reason"],
        rows,
        "; ".join(f"{r.site}: {r.plan.reason}" for r in results),
    )
    if any(r.errors for r in results):
        raise typer.Exit(1)


@app.command("catch-up")
def catch_up_cmd(
    then_verify: bool = typer.Option(
        False, "--verify", help="Then re-read and check every object on the sites."
    ),
    config: Path = ConfigOpt,
    site: list[str] = SiteOpt,
    quiet: bool = QuietOpt,
    as_json: bool = output.JsonFlag,
) -> None:
    """Copy to each site the backups and WAL it missed (after it was down) from a site that has them.

    Progress bars show bytes, rate and ETA per site (the totals are known from the catalog); exit 1
    when a copy failed or, with --verify, when the re-read finds damage.

    Example: erpops backup catch-up --verify --json
    """
    from backup.catalog import read_catalog
    from backup.estimate import catch_up_totals, per_site_totals
    from backup.ops import catch_up
    from backup.verify import verify

    _settings, sites = _load(config, site)
    catalog = read_catalog(sites)
    with _progress([s.name for s in sites], quiet, catch_up_totals(catalog, sites)) as progress:
        results = catch_up(sites, progress, catalog)
    rows: list[list[Any]] = [[r.site, len(r.copied), len(r.errors), r.reason] for r in results]
    data: dict[str, Any] = {"sites": results, "verify": None}
    verified_ok = True
    if then_verify:
        catalog = read_catalog(sites)
        with _progress([s.name for s in sites], quiet, per_site_totals(catalog, sites)) as progress:
            report = verify(sites, progress, catalog)
        verified_ok = report.ok
        data["verify"] = {"ok": report.ok, "reason": report.reason, "bad": report.bad}
        rows.append(["verify", len(report.checks), len(report.bad), report.reason])
    note = "done" if not then_verify else ("verified" if verified_ok else "verify found damage")
    _emit(as_json, data, "catch-up", ["site", "copied", "errors", "reason"], rows, note)
    if any(r.errors for r in results) or not verified_ok:
        raise typer.Exit(1)


@app.command("wal-push")
def wal_push_cmd(path: Path = WalPathArg, config: Path = ConfigOpt) -> None:
    """Ship one WAL file to every site; for archive_command.

    Example: archive_command = 'erpops backup wal-push %p --config /etc/erpops.toml'
    """
    from backup.ops import mark_wal_pushed
    from backup.walarchive import wal_push

    settings, sites = _load(config, None)
    result = wal_push(sites, path, settings.key_bytes())
    mark_wal_pushed([s for s in sites if s.name in result.ok_sites], path.name)
    output.stderr().print(result.reason)


@app.command("wal-fetch")
def wal_fetch_cmd(
    name: str = typer.Argument(..., help="WAL file name (%f)."),
    dest: Path = WalDestArg,
    config: Path = ConfigOpt,
) -> None:
    """Fetch one WAL file from the first site with a healthy copy; for restore_command.

    Example: restore_command = 'erpops backup wal-fetch %f %p --config /etc/erpops.toml'
    """
    from backup.catalog import read_catalog
    from backup.errors import NoUsableCopy
    from backup.walarchive import fetch_wal

    settings, sites = _load(config, None)
    copies = read_catalog(sites).wal.get(name)
    if not copies:
        raise NoUsableCopy(f"WAL {name} is on no site")
    fetch_wal(sites, copies, dest, settings.key_bytes())
