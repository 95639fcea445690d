"""Totals for progress bars, so they can show an ETA.

A base backup's size is unknown while pg_basebackup streams (it compresses on the server). The
estimate is the cluster's size now (sum of pg_database_size) times the stored/database ratio of the
newest base backup that recorded it, or the cluster size itself (an upper bound) without one.
Verify and catch-up know their totals exactly: the sizes of the objects each site reads or receives.
"""

from __future__ import annotations

from collections.abc import Sequence

from backup.catalog import Catalog
from backup.manifest import Manifest
from backup.sites.base import Site

DATABASE_BYTES = "database_bytes"


def cluster_bytes(url: str) -> int | None:
    """Sum of pg_database_size over the cluster's databases, or None when the server will not say."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    from erpcore.db import make_engine

    engine = make_engine(url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                text("SELECT sum(pg_database_size(oid))::bigint FROM pg_database WHERE datallowconn")
            ).scalar_one()
        return int(value) if value is not None else None
    except SQLAlchemyError:
        return None
    finally:
        engine.dispose()


def estimate_stored_bytes(now_bytes: int | None, previous: Manifest | None) -> int | None:
    """Bytes the next base backup will store per site: scaled from the previous one when it can be."""
    if now_bytes is None:
        return None
    if previous is not None:
        before = previous.extra.get(DATABASE_BYTES)
        stored = sum(f.size for f in previous.files)
        if isinstance(before, int) and before > 0 and stored > 0:
            return max(1, round(now_bytes * stored / before))
    return now_bytes


def previous_base_backup(catalog: Catalog) -> Manifest | None:
    physical = [
        e.manifest
        for e in catalog.backups
        if e.manifest.kind == "physical" and e.manifest.engine == "postgresql"
    ]
    return physical[-1] if physical else None


def per_site_totals(catalog: Catalog, sites: Sequence[Site]) -> dict[str, int]:
    """What verify re-reads on each site: every backup file it holds plus every WAL copy on it."""
    totals = {s.name: 0 for s in sites}
    for entry in catalog.backups:
        size = sum(f.size for f in entry.manifest.files)
        for name in entry.sites:
            if name in totals:
                totals[name] += size
    for copies in catalog.wal.values():
        for copy in copies:
            if copy.site in totals:
                totals[copy.site] += copy.size
    return totals


def catch_up_totals(catalog: Catalog, sites: Sequence[Site]) -> dict[str, int]:
    """What catch-up copies to each site: the backups and WAL segments it misses."""
    totals = {s.name: 0 for s in sites if s.name not in catalog.unreachable}
    for entry in catalog.backups:
        size = sum(f.size for f in entry.manifest.files)
        for name in totals:
            if name not in entry.sites:
                totals[name] += size
    for copies in catalog.wal.values():
        for name in totals:
            if not any(c.site == name for c in copies):
                totals[name] += copies[0].size
    return totals


def create_total(url: str, sites: Sequence[Site]) -> int | None:
    """The progress total of `erpops backup create` per site: exact for SQLite, estimated for PostgreSQL."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    from backup.catalog import read_catalog

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        return path.stat().st_size if path.is_file() else None
    return estimate_stored_bytes(
        cluster_bytes(url), previous_base_backup(read_catalog(sites, with_wal=False))
    )
