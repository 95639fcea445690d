"""Site-wide operations over the catalog: status with Prometheus metrics, prune, and catch-up of a lagging site."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from backup.catalog import BackupEntry, Catalog, read_catalog
from backup.errors import SiteError
from backup.fanout import Bars, phase
from backup.manifest import file_key, manifest_key
from backup.retention import BackupFacts, Policy, RetentionPlan, plan_retention
from backup.settings import BackupSettings
from backup.sites.base import Site
from backup.walarchive import WAL_LAST, utcnow

if TYPE_CHECKING:
    from backup.verify import Status, VerifyReport


@dataclass
class SiteStatus:
    site: str
    reachable: bool
    backups: int = 0
    last_backup: str | None = None
    last_backup_at: str | None = None
    last_size: int = 0
    last_duration_s: float = 0.0
    last_wal: str | None = None
    last_wal_at: str | None = None
    rpo_s: float | None = None
    error: str | None = None
    dumps: int = 0
    last_dump_at: str | None = None


def status(
    sites: Sequence[Site], catalog: Catalog | None = None, now: dt.datetime | None = None
) -> list[SiteStatus]:
    """Per site: backups held, the newest, newest shipped WAL, and RPO (age of the newest recoverable point)."""
    catalog = catalog or read_catalog(sites)
    now = now or utcnow()
    out = []
    for site in sites:
        if site.name in catalog.unreachable:
            out.append(SiteStatus(site.name, False, error=catalog.unreachable[site.name]))
            continue
        everything = [e for e in catalog.backups if site.name in e.sites]
        held = [e for e in everything if e.manifest.kind == "physical"]  # what recovery starts from
        dumps = [e for e in everything if e.manifest.kind == "logical"]
        st = SiteStatus(site.name, True, backups=len(held), dumps=len(dumps))
        if dumps:
            st.last_dump_at = dumps[-1].manifest.finished_at
        newest_point: dt.datetime | None = None
        if held:
            m = held[-1].manifest
            st.last_backup, st.last_backup_at = m.backup_id, m.finished_at
            st.last_size = sum(f.size for f in m.files)
            st.last_duration_s = round((m.finished - m.started).total_seconds(), 3)
            newest_point = m.finished
        try:
            mark = json.loads(site.get_bytes(WAL_LAST))
            st.last_wal, st.last_wal_at = mark["segment"], mark["at"]
            wal_at = dt.datetime.fromisoformat(mark["at"])
            if held and (newest_point is None or wal_at > newest_point):
                newest_point = wal_at
        except (SiteError, ValueError, KeyError):
            pass
        if newest_point is not None:
            st.rpo_s = round((now - newest_point).total_seconds(), 3)
        out.append(st)
    return out


def status_reason(statuses: Sequence[SiteStatus]) -> str:
    down = [f"{s.site} ({s.error})" for s in statuses if not s.reachable]
    text = f"{len(statuses) - len(down)} of {len(statuses)} sites reachable"
    return text + (f"; unreachable: {', '.join(down)}" if down else "")


def metrics_text(statuses: Sequence[SiteStatus]) -> str:
    """Prometheus exposition of the status: last good backup, RPO, size and duration per site."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    last = Gauge(
        "erpops_backup_last_success_timestamp_seconds",
        "Finish time of the newest backup",
        ["site"],
        registry=registry,
    )
    rpo = Gauge(
        "erpops_backup_rpo_seconds", "Age of the newest recoverable point", ["site"], registry=registry
    )
    size = Gauge("erpops_backup_size_bytes", "Stored size of the newest backup", ["site"], registry=registry)
    dur = Gauge(
        "erpops_backup_duration_seconds", "Wall time of the newest backup", ["site"], registry=registry
    )
    up = Gauge("erpops_backup_site_up", "1 when the site could be listed", ["site"], registry=registry)
    for st in statuses:
        up.labels(st.site).set(1 if st.reachable else 0)
        if st.last_backup_at:
            last.labels(st.site).set(dt.datetime.fromisoformat(st.last_backup_at).timestamp())
            size.labels(st.site).set(st.last_size)
            dur.labels(st.site).set(st.last_duration_s)
        if st.rpo_s is not None:
            rpo.labels(st.site).set(st.rpo_s)
    return generate_latest(registry).decode()


@dataclass
class SitePrune:
    site: str
    plan: RetentionPlan
    deleted_objects: int = 0
    errors: list[str] = field(default_factory=list)


def prune(
    settings: BackupSettings, sites: Sequence[Site], dry_run: bool = True, now: dt.datetime | None = None
) -> list[SitePrune]:
    """Apply each site's retention policy (or the global one); with `dry_run` only report the plan."""
    catalog = read_catalog(sites)
    now = now or utcnow()
    results = []
    for site in sites:
        if site.name in catalog.unreachable:
            continue
        cfg = next((s for s in settings.sites if s.name == site.name), None)
        policy_cfg = (cfg.retention if cfg and cfg.retention else None) or settings.retention
        held = [e for e in catalog.backups if site.name in e.sites]
        policy = Policy(policy_cfg.keep_count, policy_cfg.keep_days)
        wal = sorted({n for n, copies in catalog.wal.items() if any(c.site == site.name for c in copies)})
        plan = plan_retention(_facts(held, "physical"), wal, policy, now)
        dumps = _facts(held, "logical")
        if dumps:  # logical dumps keep their own count and window; they need no WAL
            plan = merge_plans(plan, plan_retention(dumps, [], policy, now))
        result = SitePrune(site.name, plan)
        if not dry_run:
            _apply(site, plan, catalog, result)
        results.append(result)
    return results


def _facts(held: list[BackupEntry], kind: str) -> list[BackupFacts]:
    return [
        BackupFacts(e.backup_id, e.manifest.finished, e.manifest.start_wal)
        for e in held
        if e.manifest.kind == kind
    ]


def merge_plans(physical: RetentionPlan, logical: RetentionPlan) -> RetentionPlan:
    """One site's plan: base backups with their WAL, plus logical dumps judged on their own."""
    return RetentionPlan(
        {**physical.keep, **{b: f"logical dump: {why}" for b, why in logical.keep.items()}},
        {**physical.delete, **{b: f"logical dump: {why}" for b, why in logical.delete.items()}},
        physical.delete_wal,
        physical.wal_floor,
        f"{physical.reason}; logical dumps: keep {len(logical.keep)}, delete {len(logical.delete)}",
    )


def _apply(site: Site, plan: RetentionPlan, catalog: Catalog, result: SitePrune) -> None:
    for backup_id in plan.delete:
        manifest = catalog.backup(backup_id, kind=None).manifest
        # The manifest goes first: a half-deleted backup is then simply absent, never half-present.
        for key in [manifest_key(backup_id), *(file_key(backup_id, f.name) for f in manifest.files)]:
            _delete(site, key, result)
    for name in plan.delete_wal:
        for copy in catalog.wal.get(name, []):
            if copy.site == site.name:
                _delete(site, copy.key, result)


def _delete(site: Site, key: str, result: SitePrune) -> None:
    try:
        site.delete(key)
        result.deleted_objects += 1
    except SiteError as exc:
        result.errors.append(exc.message)


@dataclass
class CatchUp:
    site: str
    copied: list[str]
    errors: list[str]
    reason: str


def catch_up(
    sites: Sequence[Site], progress: Callable[[str, int], None] | None = None, catalog: Catalog | None = None
) -> list[CatchUp]:
    """Copy to each site the backups and WAL it misses from a site that holds them (degraded -> whole)."""
    catalog = catalog or read_catalog(sites)
    by_name = {s.name: s for s in sites}
    out = []
    for site in sites:
        if site.name in catalog.unreachable:
            out.append(CatchUp(site.name, [], [catalog.unreachable[site.name]], f"{site.name} unreachable"))
            continue
        copied: list[str] = []
        errors: list[str] = []
        for entry in catalog.backups:
            if site.name in entry.sites:
                continue
            source = by_name[entry.sites[0]]
            keys = [file_key(entry.backup_id, f.name) for f in entry.manifest.files] + [
                manifest_key(entry.backup_id)
            ]
            _copy(source, site, keys, copied, errors, progress)
        for copies in catalog.wal.values():
            if not any(c.site == site.name for c in copies):
                _copy(by_name[copies[0].site], site, [copies[0].key], copied, errors, progress)
        out.append(
            CatchUp(
                site.name, copied, errors, f"{site.name}: copied {len(copied)} objects, {len(errors)} errors"
            )
        )
    return out


def _copy(
    source: Site,
    target: Site,
    keys: list[str],
    copied: list[str],
    errors: list[str],
    progress: Callable[[str, int], None] | None = None,
) -> None:
    def counted(chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            if progress:
                progress(target.name, len(chunk))
            yield chunk

    for key in keys:
        try:
            target.put_chunks(key, counted(source.read(key)))
            copied.append(key)
        except SiteError as exc:
            errors.append(exc.message)
            return


@dataclass
class CatchUpReport:
    """Catch-up on every site, and the re-read after it when asked for."""

    sites: list[CatchUp]
    verify: VerifyReport | None = None

    @property
    def status(self) -> Status:
        if any(r.errors for r in self.sites):
            return "failed"
        return self.verify.status if self.verify else "ok"

    @property
    def reason(self) -> str:
        text = "; ".join(r.reason for r in self.sites)
        return text + (f"; verify: {self.verify.reason}" if self.verify else "")


def catch_up_sites(
    sites: Sequence[Site], bars: Bars | None = None, then_verify: bool = False
) -> CatchUpReport:
    """Copy what each site misses, then (with `then_verify`) re-read and check everything on the sites."""
    from backup.estimate import catch_up_totals
    from backup.verify import verify_sites

    catalog = read_catalog(sites)
    with phase(bars, catch_up_totals(catalog, sites)) as progress:
        report = CatchUpReport(catch_up(sites, progress, catalog))
    if then_verify:
        report.verify = verify_sites(sites, bars)
    return report
