"""Progress totals: the base backup estimate scaled from the previous backup, exact verify/catch-up totals."""

from __future__ import annotations

import dataclasses
import datetime as dt

from backup.catalog import read_catalog
from backup.estimate import DATABASE_BYTES, catch_up_totals, estimate_stored_bytes, per_site_totals
from backup.manifest import FileEntry, Manifest, manifest_key, wal_key
from backup.sites.memory import MemorySite

SHA = "cd" * 32
NOW = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)


def base(backup_id: str, stored: int, database_bytes: int | None) -> Manifest:
    return Manifest(
        backup_id=backup_id,
        engine="postgresql",
        started_at=NOW.isoformat(),
        finished_at=NOW.isoformat(),
        files=(FileEntry("base.tar.zst", stored, SHA, "zstd", False),),
        compression="zstd",
        key_id=None,
        integrity={},
        sites={"a": "ok"},
        start_wal="000000010000000000000003",
        extra={DATABASE_BYTES: database_bytes} if database_bytes else {},
    )


def test_estimate_scales_the_previous_backups_compression_ratio() -> None:
    previous = base("b1", stored=250, database_bytes=1000)
    assert estimate_stored_bytes(2000, previous) == 500
    assert estimate_stored_bytes(2000, None) == 2000  # no history: the uncompressed size, an upper bound
    assert estimate_stored_bytes(2000, base("b0", stored=250, database_bytes=None)) == 2000
    assert estimate_stored_bytes(None, previous) is None


def test_verify_and_catch_up_totals_count_what_each_site_reads_or_misses() -> None:
    a, b = MemorySite("a"), MemorySite("b")
    m = base("20260301T120000Z-0001", stored=300, database_bytes=1000)
    for site in (a, b):
        site.put_bytes(f"backups/{m.backup_id}/base.tar.zst", b"x" * 300)
    a.put_bytes(manifest_key(m.backup_id), m.to_json())  # b missed the manifest: it does not hold the backup
    a.put_bytes(wal_key("000000010000000000000003", SHA), b"w" * 40)
    a.put_bytes(wal_key("000000010000000000000004", SHA), b"w" * 60)
    b.put_bytes(wal_key("000000010000000000000003", SHA), b"w" * 40)
    catalog = read_catalog([a, b])
    assert per_site_totals(catalog, [a, b]) == {"a": 300 + 100, "b": 40}
    assert catch_up_totals(catalog, [a, b]) == {"a": 0, "b": 300 + 60}
    assert dataclasses.replace(m, kind="logical").kind == "logical"
