"""Verify: re-read every object on every site, and check each backup's WAL chain to now.

A backup is good when at least one site holds all its files intact and, for PostgreSQL, at least one
site holds intact WAL without a gap from the backup's start segment to the newest archived segment.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from backup.catalog import Catalog, read_catalog
from backup.errors import SiteError
from backup.manifest import file_key
from backup.sites.base import Site
from backup.walarchive import continuity, is_segment

ProgressFn = Callable[[str, int], None]


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
        return not self.bad and not self.unreachable and all(b.good for b in self.backups)

    @property
    def reason(self) -> str:
        good = sum(b.good for b in self.backups)
        text = f"{len(self.checks)} objects re-read, {len(self.bad)} bad; {good} of {len(self.backups)} backups good"
        if self.unreachable:
            text += f"; unreachable sites: {', '.join(self.unreachable)}"
        return text


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
        file_sites = []
        for site_name in entry.sites:
            results = [
                _check(by_name[site_name], file_key(manifest.backup_id, f.name), f.size, f.sha256, progress)
                for f in manifest.files
            ]
            report.checks.extend(results)
            if all(r.ok for r in results):
                file_sites.append(site_name)
        report.backups.append(
            _verdict(manifest.backup_id, manifest.start_wal, file_sites, healthy_wal, newest)
        )
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
