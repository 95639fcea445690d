"""What the sites hold: backups (by manifest) and WAL segments, gathered across every site."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backup.errors import BackupError, NoUsableCopy, SiteError
from backup.manifest import BACKUPS, WAL, Kind, Manifest, manifest_key, parse_wal_key
from backup.sites.base import Site


@dataclass
class BackupEntry:
    """One backup and the sites that hold its manifest."""

    manifest: Manifest
    sites: list[str] = field(default_factory=list)

    @property
    def backup_id(self) -> str:
        return self.manifest.backup_id


@dataclass
class WalCopy:
    site: str
    key: str
    sha256: str
    size: int


@dataclass
class Catalog:
    """Backups newest last, WAL copies per segment file name, and the sites that could not be listed."""

    backups: list[BackupEntry]
    wal: dict[str, list[WalCopy]]
    unreachable: dict[str, str]

    @property
    def reason(self) -> str:
        text = f"{len(self.backups)} backups"
        return text + (f"; unreachable sites: {self.unreachable}" if self.unreachable else "")

    def backup(self, backup_id: str | None = None, kind: Kind | None = "physical") -> BackupEntry:
        """The named backup, else the newest of `kind` (physical by default: logical dumps are extras)."""
        if backup_id is None:
            newest = [e for e in self.backups if kind is None or e.manifest.kind == kind]
            if not newest:
                what = "backup" if kind in (None, "physical") else f"{kind} backup"
                raise NoUsableCopy(f"no {what} found on any reachable site")
            return newest[-1]
        for entry in self.backups:
            if entry.backup_id == backup_id or entry.backup_id.startswith(backup_id):
                if kind is not None and entry.manifest.kind != kind:
                    hint = (
                        " (load it with `erpops backup restore-dump`)"
                        if entry.manifest.kind == "logical"
                        else ""
                    )
                    raise BackupError(
                        f"backup {entry.backup_id} is a {entry.manifest.kind} backup, not {kind}{hint}"
                    )
                return entry
        raise BackupError(f"no backup {backup_id!r} on any reachable site")


def read_catalog(sites: Sequence[Site], with_wal: bool = True) -> Catalog:
    """List every site once; read each manifest from the first site that has it."""
    by_id: dict[str, BackupEntry] = {}
    wal: dict[str, list[WalCopy]] = {}
    unreachable: dict[str, str] = {}
    for site in sites:
        try:
            keys = site.list_keys(BACKUPS)
            wal_keys = site.list_keys(WAL) if with_wal else {}
        except SiteError as exc:
            unreachable[site.name] = exc.message
            continue
        for key in sorted(k for k in keys if k.endswith("/manifest.json")):
            backup_id = key[len(BACKUPS) :].split("/")[0]
            if backup_id not in by_id:
                manifest = _read_manifest(site, backup_id)
                if manifest is None:
                    continue
                by_id[backup_id] = BackupEntry(manifest)
            by_id[backup_id].sites.append(site.name)
        for key, size in wal_keys.items():
            parsed = parse_wal_key(key)
            if parsed:
                wal.setdefault(parsed[0], []).append(WalCopy(site.name, key, parsed[1], size))
    backups = sorted(by_id.values(), key=lambda e: (e.manifest.finished_at, e.backup_id))
    return Catalog(backups, dict(sorted(wal.items())), unreachable)


def _read_manifest(site: Site, backup_id: str) -> Manifest | None:
    try:
        return Manifest.from_json(site.get_bytes(manifest_key(backup_id)))
    except (SiteError, ValueError, KeyError, TypeError):
        return None
