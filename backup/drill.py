"""The restore drill: restore the newest backup and a random point in time into scratch, start, check, report.

A drill passes only when every step does: the restore, the server reaching read-write, `pg_amcheck`,
the ERP invariant check, and the ERP integrity summary equal to the one in the manifest (the first
restore stops at the manifest's named restore point, where that summary holds exactly even when
writes went on during the backup; see backup/pointsummary.py). It reports
RTO (restore wall time up to read-write) and RPO (age of the newest shipped WAL or backup). A failed
drill raises a `BackupDrillFailed` alert event.
"""

from __future__ import annotations

import random
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url

from backup.catalog import BackupEntry, read_catalog
from backup.errors import BackupError
from backup.ops import status
from backup.reach import RecoveryTarget
from backup.restore import restore_postgres, restore_sqlite
from backup.scratch import check_parent, scratch_cluster, scratch_dir
from backup.settings import BackupSettings
from backup.sites.base import Site
from opskit.pg import Cluster


@dataclass(frozen=True)
class DrillStep:
    name: str
    ok: bool
    seconds: float
    detail: str


@dataclass
class DrillReport:
    backup_id: str | None
    steps: list[DrillStep] = field(default_factory=list)
    rto_s: float | None = None
    rpo_s: float | None = None
    alert: str | None = None

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(s.ok for s in self.steps)

    @property
    def reason(self) -> str:
        failed = [s for s in self.steps if not s.ok]
        if not self.steps:
            return "drill did not run"
        if failed:
            return f"drill FAILED at {failed[0].name}: {failed[0].detail}"
        return f"drill passed on backup {self.backup_id}: RTO {self.rto_s:.1f}s, RPO {self.rpo_s or 0:.1f}s"


StepFn = Callable[[str], None]


class _Steps:
    def __init__(self, report: DrillReport, on_step: StepFn | None = None) -> None:
        self.report = report
        self.on_step = on_step

    def run(self, name: str, fn: object) -> bool:
        """Run one step; its exception is the drill's finding (a signal or Ctrl-C is not: it unwinds)."""
        if self.on_step:
            self.on_step(name)
        began = time.monotonic()
        try:
            detail = fn()  # type: ignore[operator]
            ok = True
        except Exception as exc:
            detail, ok = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}", False
        self.report.steps.append(DrillStep(name, ok, round(time.monotonic() - began, 3), str(detail)))
        return ok


def run_drill(
    settings: BackupSettings,
    sites: Sequence[Site],
    scratch: Path | None = None,
    seed: int | None = None,
    alert_url: str | None = None,
    on_step: StepFn | None = None,
) -> DrillReport:
    """Run the drill on the newest backup; on failure record an alert event in the ERP database.

    Scratch clusters and directories are removed on every way out, SIGTERM and Ctrl-C included;
    `on_step` hears each step's name as it starts (the CLI shows it as progress).
    """
    check_parent(scratch)
    catalog = read_catalog(sites)
    report = DrillReport(None)
    steps = _Steps(report, on_step)
    entry: BackupEntry | None = None

    def pick() -> str:
        nonlocal entry
        entry = catalog.backup()
        report.backup_id = entry.backup_id
        return f"backup {entry.backup_id} on {', '.join(entry.sites)}"

    if steps.run("choose backup", pick) and entry is not None:
        with scratch_dir("erpops-drill-", scratch) as root:
            if entry.manifest.engine == "sqlite":
                _drill_sqlite(settings, sites, entry, root, steps)
            else:
                _drill_postgres(settings, sites, entry, root, steps, random.Random(seed))
        newest = [s.rpo_s for s in status(sites, catalog) if s.rpo_s is not None]
        report.rpo_s = min(newest) if newest else None
    if not report.ok:
        report.alert = _alert(alert_url or settings.effective_database_url(), report)
    return report


def _alert(url: str, report: DrillReport) -> str:
    from erpcore.alerts import raise_alert
    from erpcore.db import make_engine

    try:
        engine = make_engine(url)
        try:
            raise_alert(
                engine,
                "BackupDrillFailed",
                report.reason,
                "critical",
                {"backup_id": report.backup_id or "none", "tool": "backup"},
            )
        finally:
            engine.dispose()
    except Exception as exc:
        return f"alert not recorded: {exc}"
    return "BackupDrillFailed alert recorded"


def _compare(expected: dict[str, str], engine_url: str) -> str:
    from backup.integrity import integrity_summary
    from erpcore.db import make_engine

    engine = make_engine(engine_url)
    try:
        got = integrity_summary(engine)
    finally:
        engine.dispose()
    diff = {
        k: (expected.get(k), got.get(k))
        for k in sorted(set(expected) | set(got))
        if expected.get(k) != got.get(k)
    }
    if diff:
        raise BackupError(f"integrity summary differs from the manifest (manifest, restored): {diff}")
    return f"{len(got)} summary values equal the manifest"


def _erp_check(engine_url: str) -> str:
    from erpcore.check import run_check
    from erpcore.db import make_engine

    engine = make_engine(engine_url)
    try:
        report = run_check(engine)
    finally:
        engine.dispose()
    if not report.ok:
        raise BackupError("; ".join(v.message for v in report.violations[:3]))
    return f"{len(report.checked)} invariants hold"


def _drill_sqlite(
    settings: BackupSettings, sites: Sequence[Site], entry: BackupEntry, root: Path, steps: _Steps
) -> None:
    target = root / "restored.sqlite"
    began = time.monotonic()
    if not steps.run("restore", lambda: restore_sqlite(settings, sites, target, entry.backup_id).reason):
        return
    steps.report.rto_s = round(time.monotonic() - began, 3)
    url = f"sqlite:///{target}"
    steps.run("erpops check", lambda: _erp_check(url))
    steps.run("integrity summary", lambda: _compare(entry.manifest.integrity, url))


def _drill_postgres(
    settings: BackupSettings,
    sites: Sequence[Site],
    entry: BackupEntry,
    root: Path,
    steps: _Steps,
    rnd: random.Random,
) -> None:
    dbname = make_url(settings.effective_database_url()).database or "postgres"
    manifest = entry.manifest
    began = time.monotonic()
    with scratch_cluster(root / "latest", settings.pg_bin_dir) as first:
        ok = steps.run("restore backup", lambda: _restore_at_summary(settings, sites, entry, first))
        if ok and steps.run("start read-write", lambda: _start(first)):
            steps.report.rto_s = round(time.monotonic() - began, 3)
            steps.run("pg_amcheck", lambda: _amcheck(first, dbname))
            steps.run("erpops check", lambda: _erp_check(first.url(dbname)))
            steps.run("integrity summary", lambda: _compare(manifest.integrity, first.url(dbname)))
    with scratch_cluster(root / "pitr", settings.pg_bin_dir) as second:
        ok = steps.run(
            "restore to a random commit", lambda: _restore_random_commit(settings, sites, entry, second, rnd)
        )
        if ok and steps.run("start point in time", lambda: _start(second)):
            steps.run("pg_amcheck point in time", lambda: _amcheck(second, dbname))


def _restore_at_summary(
    settings: BackupSettings, sites: Sequence[Site], entry: BackupEntry, cluster: Cluster
) -> str:
    target, last_segment = summary_target(entry, set(read_catalog(sites).wal))
    return restore_postgres(
        settings, sites, cluster.data_dir, target, entry.backup_id, cluster.user, wal_until=last_segment
    ).reason


def summary_target(entry: BackupEntry, shipped: set[str]) -> tuple[RecoveryTarget, str | None]:
    """Where the manifest's integrity summary holds exactly, and the last WAL segment recovery needs:
    its named restore point (that WAL must be on some site), else the end of the backup (older
    manifests; exact only when nothing was written during the backup)."""
    from backup.pgtools import lsn_to_int, segment_name

    m = entry.manifest
    if not m.integrity_point or not m.integrity_lsn:
        return RecoveryTarget("immediate"), None
    end = lsn_to_int(m.integrity_lsn) - 1  # the record's last byte (the function returns its end)
    segment = segment_name(f"{end >> 32:X}/{end & 0xFFFFFFFF:X}", m.timeline or 1)
    if segment not in shipped:
        raise BackupError(
            f"the WAL segment {segment} holding restore point {m.integrity_point} (where the integrity summary "
            "was taken) has reached no site yet: ship WAL (erpops backup wal-stream or archive_command) and drill again"
        )
    return RecoveryTarget("name", m.integrity_point), segment


def _restore_random_commit(
    settings: BackupSettings, sites: Sequence[Site], entry: BackupEntry, cluster: Cluster, rnd: random.Random
) -> str:
    """Restore with all shipped WAL, then aim recovery at one commit picked at random after the backup."""
    from backup.reach import commit_times
    from backup.restore import SPOOL

    result = restore_postgres(
        settings, sites, cluster.data_dir, RecoveryTarget("latest"), entry.backup_id, cluster.user
    )
    commits = [
        c for c in commit_times(cluster.data_dir / SPOOL, cluster.bin_dir) if c[1] > entry.manifest.finished
    ]
    if not commits:
        return result.reason + "; no commit after the backup, replaying to the end"
    xid, when = rnd.choice(commits)
    # A time target stops only before a later commit; the commit's xid stops right after it, last one too.
    with (cluster.data_dir / "postgresql.auto.conf").open("a") as fh:
        fh.write(f"recovery_target_xid = '{xid}'\n")
    return f"{result.reason}; target: commit of xid {xid} at {when.isoformat()} (one of {len(commits)})"


def _start(cluster: Cluster) -> str:
    cluster.start()
    cluster.wait_ready()
    return f"read-write on port {cluster.port}"


def _amcheck(cluster: Cluster, dbname: str) -> str:
    done = subprocess.run(
        [
            *cluster.client("pg_amcheck"),
            "--install-missing",
            "--heapallindexed",
            "-d",
            dbname,
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise BackupError(f"pg_amcheck exit {done.returncode}: {(done.stdout + done.stderr).strip()[-300:]}")
    return "heap and B-tree indexes consistent"
