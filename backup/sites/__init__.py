"""Backup sites behind one interface (`Site`), built from configuration by `make_site`."""

from __future__ import annotations

from pathlib import Path

from backup.settings import BackupSettings, SiteSettings
from backup.sites.base import ObjectInfo, ObjectWriter, Site

__all__ = ["ObjectInfo", "ObjectWriter", "Site", "load_sites", "make_site", "make_sites"]


def make_site(settings: SiteSettings) -> Site:
    """The site a configuration entry describes (imports boto3 only for S3 sites)."""
    if settings.kind == "local":
        from backup.sites.local import LocalSite

        assert settings.path is not None
        return LocalSite(settings.name, settings.path)
    if settings.kind == "s3":
        from backup.sites.s3 import S3Site

        return S3Site(settings)
    from backup.sites.memory import MemorySite

    return MemorySite(settings.name)


def make_sites(settings: BackupSettings, only: list[str] | None = None) -> list[Site]:
    chosen = [settings.site(n) for n in only] if only else settings.sites
    return [make_site(s) for s in chosen]


def load_sites(
    config_file: Path | None = None, only: list[str] | None = None
) -> tuple[BackupSettings, list[Site]]:
    """The backup settings from `config_file` (default: ERPOPS_CONFIG) and the sites they name (or `only`)."""
    from backup.settings import load_backup_settings

    settings = load_backup_settings(config_file)
    return settings, make_sites(settings, only)
