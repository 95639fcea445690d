"""How `erpops backup` shows its results: progress bars on stderr, tables for people, stable JSON for machines.

Only backup/cli.py imports this module; engines return data and never print.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import typer
from rich.table import Table

from opskit import output
from opskit.exitcodes import ExitCode

if TYPE_CHECKING:
    from backup.create import BackupResult
    from backup.drill import DrillReport
    from backup.dumprestore import DumpRestoreResult
    from backup.fanout import Bars, ProgressFn
    from backup.ops import CatchUpReport, SitePrune, SiteStatus
    from backup.tablerestore import TableRestoreResult
    from backup.verify import VerifyReport

EXIT = {"ok": ExitCode.OK, "degraded": ExitCode.DEGRADED, "failed": ExitCode.FAILED}


def exit_with(status: str) -> None:
    """End the command with the code of an engine's status (ok 0, degraded 3, failed 1)."""
    if EXIT[status] != ExitCode.OK:
        raise typer.Exit(int(EXIT[status]))


def show(as_json: bool, data: Any, table: Table, note: str, quiet: bool = False) -> None:
    """JSON on stdout, or the table on stdout and the one-line summary on stderr (unless quiet)."""
    if as_json:
        output.print_json(data)
        return
    output.stdout().print(table)
    if not quiet:
        output.note(note)


def warn(message: str, quiet: bool) -> None:
    """One `warning:` line on stderr (never wrapped), in table and JSON mode alike; nothing with --quiet."""
    if not quiet:
        sys.stderr.write("warning: " + " ".join(message.split()) + "\n")
        sys.stderr.flush()


def step_note(name: str) -> None:
    """Progress of a drill on stderr: the step starting now."""
    output.note(f"drill: {name} ...")


def lines_table(title: str, lines: list[str]) -> Table:
    return output.table(title, [""], [[line] for line in lines])


def bars(names: list[str], quiet: bool) -> Bars | None:
    """Per-site byte progress bars with rate and ETA on stderr, opened phase by phase; None when quiet."""
    if quiet:
        return None

    def open_phase(
        total: int | dict[str, int] | None,
    ) -> contextlib.AbstractContextManager[ProgressFn | None]:
        return _bars(names, total)

    return open_phase


@contextlib.contextmanager
def _bars(names: list[str], total: int | dict[str, int] | None) -> Iterator[Callable[[str, int], None]]:
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    progress = Progress(
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

    tasks = {name: progress.add_task(name, total=total_of(name)) for name in names}

    def advance(name: str, n: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=total_of(name))
        progress.advance(tasks[name], n)

    with progress:
        yield advance


def create_view(result: BackupResult) -> tuple[dict[str, Any], Table]:
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
    return data, output.table(f"backup {m.backup_id}", ["site", "state", "bytes"], rows)


def list_view(entries: list[Any]) -> tuple[list[dict[str, Any]], Table]:
    data = [
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
        for e in entries
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
    columns = ["backup", "engine", "kind", "finished", "bytes", "sites", "degraded"]
    return data, output.table("backups", columns, rows)


def status_table(statuses: list[SiteStatus]) -> Table:
    rows = [[s.site, s.reachable, s.backups, s.last_backup, s.last_wal, s.rpo_s] for s in statuses]
    return output.table("backup sites", ["site", "up", "backups", "newest", "newest WAL", "RPO s"], rows)


def verify_json(report: VerifyReport) -> dict[str, Any]:
    return {
        "ok": report.ok,
        "status": report.status,
        "reason": report.reason,
        "backups": report.backups,
        "bad": report.bad,
        "unreachable": report.unreachable,
        "objects": len(report.checks),
    }


def verify_table(report: VerifyReport) -> Table:
    rows = [
        [
            b.backup_id,
            "restorable" if b.good else "NOT RESTORABLE",
            ",".join(b.file_sites),
            ",".join(b.wal_sites),
            b.reason,
        ]
        for b in report.backups
    ]
    rows += [["", "BAD COPY", c.site, "", f"{c.key}: {c.reason}"] for c in report.bad]
    return output.table("verify", ["backup", "verdict", "good copies on", "WAL sites", "reason"], rows)


def restore_table(result: Any) -> Table:
    rows = [
        ["backup", result.backup_id],
        ["site", result.site],
        ["target", result.target],
        ["path", result.path],
        ["WAL files", result.wal_files],
        ["seconds", round(result.seconds, 3)],
    ]
    return output.table("restore", ["", ""], rows)


def tables_table(result: TableRestoreResult) -> Table:
    rows = [[f"{result.schema}.{t.split('.')[-1]}", n] for t, n in result.tables.items()]
    return output.table(f"tables as of {result.target}", ["copy", "rows"], rows)


def dump_table(result: DumpRestoreResult, into_database: str) -> Table:
    rows = [[f"{into_database}.{t}", n] for t, n in result.tables.items()]
    return output.table(f"dump {result.backup_id} -> {into_database}", ["table", "rows"], rows)


def drill_view(report: DrillReport) -> tuple[dict[str, Any], Table]:
    data = {
        "ok": report.ok,
        "backup_id": report.backup_id,
        "rto_s": report.rto_s,
        "rpo_s": report.rpo_s,
        "reason": report.reason,
        "alert": report.alert,
        "steps": report.steps,
    }
    rows: list[list[Any]] = [[s.name, "ok" if s.ok else "FAILED", s.seconds, s.detail] for s in report.steps]
    rows.append(["RTO / RPO", "", "", f"RTO {report.rto_s} s, RPO {report.rpo_s} s"])
    return data, output.table(
        f"restore drill {report.backup_id}", ["step", "result", "seconds", "detail"], rows
    )


def prune_view(results: list[SitePrune], dry_run: bool) -> tuple[list[dict[str, Any]], Table]:
    action = "would delete" if dry_run else "delete"
    rows: list[list[Any]] = []
    for r in results:
        rows += [[r.site, b, "keep", why] for b, why in r.plan.keep.items()]
        rows += [[r.site, b, action, why] for b, why in r.plan.delete.items()]
        if r.plan.delete_wal:
            rows.append([r.site, f"{len(r.plan.delete_wal)} WAL", action, f"before {r.plan.wal_floor}"])
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
    title = "retention" + (" (dry run)" if dry_run else "")
    return data, output.table(title, ["site", "backup", "action", "reason"], rows)


def catch_up_view(report: CatchUpReport) -> tuple[dict[str, Any], Table]:
    rows: list[list[Any]] = [[r.site, len(r.copied), len(r.errors), r.reason] for r in report.sites]
    if report.verify:
        rows.append(["verify", len(report.verify.checks), len(report.verify.bad), report.verify.reason])
    data = {
        "status": report.status,
        "reason": report.reason,
        "sites": report.sites,
        "verify": verify_json(report.verify) if report.verify else None,
    }
    return data, output.table("catch-up", ["site", "copied", "errors", "reason"], rows)
