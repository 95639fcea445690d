"""The `create` command's engine: a base backup or a logical dump to every site, with progress."""

from __future__ import annotations

from collections.abc import Sequence

from backup.create import BackupResult, create_backup
from backup.errors import UsageError
from backup.fanout import Bars, phase
from backup.settings import BackupSettings
from backup.sites.base import Site


def take_backup(
    settings: BackupSettings,
    sites: Sequence[Site],
    bars: Bars | None = None,
    label: str = "",
    logical: bool = False,
    jobs: int | None = None,
) -> BackupResult:
    """A base backup (or with `logical` a pg_dump) to every site, drawing progress through `bars` if given."""
    from backup.estimate import create_total
    from backup.logical import create_logical

    if jobs is not None and not logical:
        raise UsageError("--jobs applies to --logical dumps only (pg_basebackup has no workers to set)")
    total = create_total(settings.effective_database_url(), sites) if bars and not logical else None
    with phase(bars, total) as progress:
        if logical:
            return create_logical(settings, sites, progress, label, jobs)
        return create_backup(settings, sites, progress, label)
