"""Backup sites behind one interface (`Site`), built from configuration by `make_site`."""

from __future__ import annotations

from backup.settings import BackupSettings, SiteSettings
from backup.sites.base import ObjectInfo, ObjectWriter, Site

__all__ = ["ObjectInfo", "ObjectWriter", "Site", "make_site", "make_sites"]


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
