"""`erpops backup`: multi-site backups, verification, point-in-time restore and restore drills.

Each command parses its options, calls one engine function and renders what it returns (backup/views.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from backup import options as opt
from backup import views
from opskit import output
from opskit.exitcodes import table_text

if TYPE_CHECKING:
    from backup.settings import BackupSettings
    from backup.sites.base import Site

EPILOG = table_text() + " Backup: 3 also means a copy or site is bad but every backup is restorable."
app = typer.Typer(help="Multi-site backups, verification, point-in-time restore and restore drills.\n\n"
                       "Example: erpops backup create && erpops backup verify",
                  no_args_is_help=True, rich_markup_mode="rich", epilog=EPILOG)


def _load(config: Path | None, only: list[str] | None) -> tuple[BackupSettings, list[Site]]:
    from backup.sites import load_sites

    return load_sites(config, only)


def _names(sites: list[Site]) -> list[str]:
    return [s.name for s in sites]


@app.command("create")
def create_cmd(
    label: str = opt.LabelOpt, logical: bool = opt.LogicalOpt, jobs: int = opt.DumpJobsOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Back up the ERP database once, the same bytes to every site concurrently; exit 3 if a site failed.

    Example: erpops backup create --json
    Example: erpops backup create --logical --jobs 4 --label before-price-update
    """
    from backup.take import take_backup

    settings, sites = _load(config, site)
    result = take_backup(settings, sites, views.bars(_names(sites), quiet), label, logical, jobs)
    data, table = views.create_view(result)
    views.show(as_json, data, table, result.reason, quiet)
    views.exit_with("degraded" if result.degraded else "ok")


@app.command("list")
def list_backups(config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt, quiet: bool = opt.QuietOpt,
                 as_json: bool = opt.JsonOpt) -> None:
    """List the backups found on the sites, oldest first.

    Example: erpops backup list --json
    """
    from backup.catalog import read_catalog

    catalog = read_catalog(_load(config, site)[1], with_wal=False)
    data, table = views.list_view(catalog.backups)
    views.show(as_json, data, table, catalog.reason, quiet)


@app.command("status")
def status_cmd(
    metrics: bool = opt.MetricsOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Per site: newest backup, newest shipped WAL and RPO; `--metrics` for Prometheus.

    Example: erpops backup status --metrics > /var/lib/node_exporter/erpops_backup.prom
    """
    from backup.ops import metrics_text, status, status_reason

    statuses = status(_load(config, site)[1])
    if metrics:
        typer.echo(metrics_text(statuses), nl=False)
        return
    views.show(as_json, statuses, views.status_table(statuses), status_reason(statuses), quiet)


@app.command("verify")
def verify_cmd(config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt, quiet: bool = opt.QuietOpt,
               as_json: bool = opt.JsonOpt) -> None:
    """Re-read every object on every site and check each backup's WAL chain.

    Exit 0 all intact; 3 a copy is bad or a site unreachable, but every backup is still restorable from a
    healthy copy (the summary names the copy and the site); 1 a backup cannot be restored from any site.

    Example: erpops backup verify --json
    """
    from backup.verify import verify_sites

    sites = _load(config, site)[1]
    report = verify_sites(sites, views.bars(_names(sites), quiet))
    views.show(as_json, views.verify_json(report), views.verify_table(report), report.reason, quiet)
    views.exit_with(report.status)


@app.command("restore")
def restore_cmd(
    to: Path = opt.ToOpt, backup_id: str = opt.BackupOpt, time: str = opt.TimeOpt, xid: str = opt.XidOpt,
    name: str = opt.NameOpt, lsn: str = opt.LsnOpt, immediate: bool = opt.ImmediateOpt,
    owner: str = opt.OwnerOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Restore the newest backup, or to a point in time, from any site with a healthy copy.

    A --time or --xid the WAL on the sites cannot reach fails (exit 1, naming the newest reachable time)
    and leaves no data directory behind.

    Example: erpops backup restore --to /srv/pg/restored --time '2025-03-01T12:00:00+00:00' --owner postgres
    """
    from backup.reach import parse_target
    from backup.restore import restore

    target = parse_target(time=time, xid=xid, name=name, lsn=lsn, immediate=immediate)
    settings, sites = _load(config, site)
    result = restore(settings, sites, to, target, backup_id, owner, views.bars(["restore"], quiet))
    if result.skipped:
        views.warn("skipped bad copies, restored from healthy ones: "
                   + "; ".join(f"{where}: {why}" for where, why in result.skipped.items()), quiet)
    views.show(as_json, result, views.restore_table(result), result.reason, quiet)


@app.command("drill")
def drill_cmd(
    scratch: Path = opt.ScratchOpt,
    seed: int = opt.SeedOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Restore the newest backup and a random commit into scratch clusters, check them, report RTO and RPO.

    Stopped by SIGTERM or Ctrl-C, it removes its scratch clusters and directory first (exit 143 / 130).

    Example: erpops backup drill --json
    """
    from backup.drill import run_drill

    settings, sites = _load(config, site)
    report = run_drill(settings, sites, scratch, seed, on_step=None if quiet else views.step_note)
    data, table = views.drill_view(report)
    views.show(as_json, data, table, report.reason + (f" ({report.alert})" if report.alert else ""), quiet)
    views.exit_with("ok" if report.ok else "failed")


@app.command("wal-stream")
def wal_stream_cmd(
    spool: Path = opt.SpoolOpt, slot: str = opt.SlotOpt, seconds: float = opt.SecondsOpt,
    config: Path = opt.ConfigOpt, quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Stream WAL with pg_receivewal and push every finished segment to every site.

    SIGINT and SIGTERM are the normal way to stop it: it pushes what is finished and exits 0.

    Example: erpops backup wal-stream --spool /var/lib/erpops/wal-spool
    """
    from backup.walstream import stream

    settings, sites = _load(config, None)
    stats = stream(settings.effective_database_url(), sites, spool, settings.key_bytes(), slot,
                   settings.pg_bin_dir, seconds)
    views.show(as_json, {**output.to_jsonable(stats), "reason": stats.reason},
               views.lines_table("wal-stream", [stats.reason]), stats.reason, quiet)
    views.exit_with("failed" if stats.errors else "ok")


@app.command("restore-table")
def restore_table_cmd(
    table: list[str] = opt.TablesOpt, into_schema: str = opt.IntoSchemaOpt, time: str = opt.TimeOpt,
    name: str = opt.NameOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Copy tables as they were at a point in time into a new schema beside the live ones.

    Example: erpops backup restore-table -t sales_order --time 2025-03-01T09:00:00+00:00 --into-schema so_0900
    """
    from backup.reach import parse_target
    from backup.tablerestore import restore_tables

    target = parse_target(time=time, name=name)
    settings, sites = _load(config, site)
    result = restore_tables(settings, sites, table, into_schema, target)
    views.show(as_json, result, views.tables_table(result), result.reason, quiet)


@app.command("restore-dump")
def restore_dump_cmd(
    into_database: str = opt.IntoDatabaseOpt,
    table: list[str] = opt.DumpTableOpt,
    schema: list[str] = opt.DumpSchemaOpt,
    backup_id: str = opt.DumpBackupOpt,
    jobs: int = opt.RestoreJobsOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Load a logical dump, or only some tables or schemas of it, into a new database beside the live one.

    Example: erpops backup restore-dump --into-database erp_0900 -t sales_order -t sales_order_line --json
    """
    from backup.dumprestore import restore_dump

    settings, sites = _load(config, site)
    result = restore_dump(settings, sites, into_database, table or [], schema or [], backup_id, jobs)
    views.show(as_json, result, views.dump_table(result, into_database), result.reason, quiet)


@app.command("prune")
def prune_cmd(
    dry_run: bool = opt.DryRunOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Apply the retention policy per site; never deletes what a kept recovery window needs.

    Example: erpops backup prune --dry-run
    """
    from backup.ops import prune

    settings, sites = _load(config, site)
    results = prune(settings, sites, dry_run=dry_run)
    data, table = views.prune_view(results, dry_run)
    views.show(as_json, data, table, "; ".join(f"{r.site}: {r.plan.reason}" for r in results), quiet)
    views.exit_with("failed" if any(r.errors for r in results) else "ok")


@app.command("catch-up")
def catch_up_cmd(
    then_verify: bool = opt.ThenVerifyOpt,
    config: Path = opt.ConfigOpt, site: list[str] = opt.SiteOpt,
    quiet: bool = opt.QuietOpt, as_json: bool = opt.JsonOpt,
) -> None:
    """Copy to each site the backups and WAL it missed (after it was down) from a site that has them.

    Exit 1 when a copy failed; with --verify, verify's codes (3: a copy is still bad, all restorable).

    Example: erpops backup catch-up --verify --json
    """
    from backup.ops import catch_up_sites

    sites = _load(config, site)[1]
    report = catch_up_sites(sites, views.bars(_names(sites), quiet), then_verify)
    data, table = views.catch_up_view(report)
    views.show(as_json, data, table, report.reason, quiet)
    views.exit_with(report.status)


@app.command("wal-push")
def wal_push_cmd(path: Path = opt.WalPathArg, config: Path = opt.ConfigOpt,
                 quiet: bool = opt.QuietOpt) -> None:
    """Ship one WAL file to every site; for archive_command (exit 1 only when no site took it).

    Example: archive_command = 'erpops backup wal-push %p --config /etc/erpops.toml'
    """
    from backup.walarchive import ship

    settings, sites = _load(config, None)
    result = ship(sites, path, settings.key_bytes())
    if not quiet:
        output.note(result.reason)


@app.command("wal-fetch")
def wal_fetch_cmd(
    name: str = opt.WalNameArg,
    dest: Path = opt.WalDestArg,
    config: Path = opt.ConfigOpt,
) -> None:
    """Fetch one WAL file from the first site with a healthy copy; for restore_command.

    Example: restore_command = 'erpops backup wal-fetch %f %p --config /etc/erpops.toml'
    """
    from backup.walarchive import fetch_named

    settings, sites = _load(config, None)
    fetch_named(sites, name, dest, settings.key_bytes())
