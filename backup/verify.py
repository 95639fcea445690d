"""Verify: re-read every object on every site, and check each backup's WAL chain to now.

A backup is good when at least one site holds all its files intact and, for PostgreSQL, at least one
site holds intact WAL without a gap from the backup's start segment to the newest archived segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from backup.catalog import Catalog, read_catalog
from backup.errors import SiteError
from backup.fanout import Bars, ProgressFn, phase
from backup.manifest import WAL, file_key
from backup.sites.base import Site
from backup.walarchive import continuity, is_segment


@dataclass(frozen=True)
class ObjectCheck:
    site: str
    key: str
    ok: bool
    reason: str


@dataclass
class BackupVerdict:
    backup_id: str
    good: bool
    file_sites: list[str]
    wal_sites: list[str]
    reason: str
    bad_sites: dict[str, str] = field(default_factory=dict)


Status = Literal["ok", "degraded", "failed"]


@dataclass
class VerifyReport:
    checks: list[ObjectCheck] = field(default_factory=list)
    backups: list[BackupVerdict] = field(default_factory=list)
    unreachable: dict[str, str] = field(default_factory=dict)

    @property
    def bad(self) -> list[ObjectCheck]:
        return [c for c in self.checks if not c.ok]

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def status(self) -> Status:
        """failed: some backup cannot be restored; degraded: all can, but a copy is bad or a site unreachable."""
        if not all(b.good for b in self.backups):
            return "failed"
        return "degraded" if self.bad or self.unreachable else "ok"

    @property
    def reason(self) -> str:
        """What is bad, where, and whether each backup can still be restored, in plain words."""
        lines = [_backup_line(b) for b in self.backups if not b.good or b.bad_sites]
        lines += [
            f"WAL copy {c.key} on site {c.site} is BAD ({c.reason})"
            for c in self.bad
            if c.key.startswith(WAL)
        ]
        lines += [f"site {name} unreachable ({why})" for name, why in self.unreachable.items()]
        good = sum(b.good for b in self.backups)
        head = {
            "ok": f"all {len(self.checks)} objects intact; {good} of {len(self.backups)} backups restorable",
            "degraded": f"DEGRADED: {good} of {len(self.backups)} backups still restorable from a healthy copy, "
            f"but {len(self.bad)} of {len(self.checks)} copies are bad or a site is unreachable",
            "failed": f"FAILED: {len(self.backups) - good} of {len(self.backups)} backups cannot be restored",
        }[self.status]
        return "; ".join([head, *lines])


def _backup_line(verdict: BackupVerdict) -> str:
    bad = "; ".join(f"the copy on site {site} is BAD ({why})" for site, why in verdict.bad_sites.items())
    if not verdict.good:
        return f"backup {verdict.backup_id} is NOT restorable: {verdict.reason}" + (f"; {bad}" if bad else "")
    return f"backup {verdict.backup_id}: {bad}; still restorable from site {', '.join(verdict.file_sites)}"


def _check(site: Site, key: str, size: int, sha: str, progress: ProgressFn | None) -> ObjectCheck:
    digest = hashlib.sha256()
    seen = 0
    try:
        for chunk in site.read(key):
            digest.update(chunk)
            seen += len(chunk)
            if progress:
                progress(site.name, len(chunk))
    except SiteError as exc:
        return ObjectCheck(site.name, key, False, exc.message)
    if seen != size or digest.hexdigest() != sha:
        return ObjectCheck(
            site.name,
            key,
            False,
            f"{seen} bytes sha256 {digest.hexdigest()[:12]}, expected {size} bytes {sha[:12]}",
        )
    return ObjectCheck(site.name, key, True, "intact")


def verify_sites(sites: Sequence[Site], bars: Bars | None = None) -> VerifyReport:
    """Read the catalog and verify everything on `sites`, drawing per-site progress through `bars`."""
    from backup.estimate import per_site_totals

    catalog = read_catalog(sites)
    with phase(bars, per_site_totals(catalog, sites)) as progress:
        return verify(sites, progress, catalog)


def verify(
    sites: Sequence[Site], progress: ProgressFn | None = None, catalog: Catalog | None = None
) -> VerifyReport:
    """Re-read and check every backup file and WAL copy on every site; judge each backup."""
    catalog = catalog or read_catalog(sites)
    by_name = {s.name: s for s in sites}
    report = VerifyReport(unreachable=dict(catalog.unreachable))
    healthy_wal: dict[str, set[str]] = {s.name: set() for s in sites}
    for name, copies in catalog.wal.items():
        for copy in copies:
            check = _check(by_name[copy.site], copy.key, copy.size, copy.sha256, progress)
            report.checks.append(check)
            if check.ok:
                healthy_wal[copy.site].add(name)
    newest = max((n for n in catalog.wal if is_segment(n)), default=None)
    for entry in catalog.backups:
        manifest = entry.manifest
        file_sites: list[str] = []
        bad_sites: dict[str, str] = {}
        for site_name in entry.sites:
            results = [
                _check(by_name[site_name], file_key(manifest.backup_id, f.name), f.size, f.sha256, progress)
                for f in manifest.files
            ]
            report.checks.extend(results)
            if all(r.ok for r in results):
                file_sites.append(site_name)
            else:
                bad_sites[site_name] = next(f"{r.key}: {r.reason}" for r in results if not r.ok)
        verdict = _verdict(manifest.backup_id, manifest.start_wal, file_sites, healthy_wal, newest)
        verdict.bad_sites = bad_sites
        report.backups.append(verdict)
    return report


def _verdict(
    backup_id: str,
    start_wal: str | None,
    file_sites: list[str],
    healthy_wal: dict[str, set[str]],
    newest: str | None,
) -> BackupVerdict:
    if not file_sites:
        return BackupVerdict(
            backup_id, False, [], [], f"backup {backup_id}: no site holds all its files intact"
        )
    if start_wal is None:
        return BackupVerdict(
            backup_id, True, file_sites, [], f"backup {backup_id}: files intact on {', '.join(file_sites)}"
        )
    wal_sites, gaps = [], []
    for site, names in healthy_wal.items():
        last, _gaps = continuity(names, start_wal)
        if last is not None and newest is not None and last[8:] >= newest[8:]:
            wal_sites.append(site)
        else:
            gaps.append(f"{site} stops at {last or 'nothing'}")
    if not wal_sites:
        return BackupVerdict(
            backup_id,
            False,
            file_sites,
            [],
            f"backup {backup_id}: no site holds unbroken WAL from {start_wal} to {newest} ({'; '.join(gaps)})",
        )
    return BackupVerdict(
        backup_id,
        True,
        file_sites,
        wal_sites,
        f"backup {backup_id}: files intact on {', '.join(file_sites)}, WAL unbroken to {newest} on {', '.join(wal_sites)}",
    )
