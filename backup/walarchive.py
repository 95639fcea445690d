"""WAL shipping to every site (`wal-push` from archive_command), fetching, and continuity checks.

A WAL object's key carries the SHA-256 of its stored bytes (`wal/<segment>-<sha256>`), so any copy
on any site can be checked without a manifest, and a damaged copy is skipped for a healthy one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from backup.catalog import WalCopy, read_catalog
from backup.crypto import decrypt_stream, encrypt_deterministic
from backup.errors import BackupError, CorruptObject, NoUsableCopy, SiteError
from backup.fanout import fan_out
from backup.manifest import WAL, parse_wal_key, wal_key
from backup.pgtools import segment_number
from backup.sites.base import Site

WAL_LAST = "status/wal-last.json"


@dataclass(frozen=True)
class WalPushResult:
    segment: str
    ok_sites: list[str]
    failed: dict[str, str]
    reason: str


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def mark_wal_pushed(sites: Sequence[Site], segment: str, now: dt.datetime | None = None) -> None:
    """Record the newest shipped segment and when (the RPO clock), on the sites that took it."""
    body = json.dumps({"segment": segment, "at": (now or utcnow()).isoformat()}).encode()
    for site in sites:
        try:
            site.put_bytes(WAL_LAST, body)
        except SiteError:
            continue


def is_segment(name: str) -> bool:
    return len(name) == 24 and all(c in "0123456789ABCDEF" for c in name)


def wal_push(sites: Sequence[Site], path: Path, key: bytes | None) -> WalPushResult:
    """Ship one WAL file to every site; fails (so PostgreSQL retries) only when no site took it."""
    data = path.read_bytes()
    stored = encrypt_deterministic(data, key) if key else data
    sha = hashlib.sha256(stored).hexdigest()
    target = wal_key(path.name, sha)
    failed: dict[str, str] = {}
    todo: list[Site] = []
    for site in sites:
        try:
            held = site.list_keys(f"{WAL}{path.name}-")
        except SiteError as exc:
            failed[site.name] = exc.message
            continue
        if target not in held:
            todo.append(site)
    if todo:
        failed.update(fan_out([stored], target, todo).failed)
    ok = [s.name for s in sites if s.name not in failed]
    if not ok:
        raise BackupError(f"WAL {path.name} reached no site: {failed}")
    reason = f"WAL {path.name} on {len(ok)} of {len(sites)} sites" + (
        f", failed: {', '.join(failed)}" if failed else ""
    )
    return WalPushResult(path.name, ok, failed, reason)


def ship(sites: Sequence[Site], path: Path, key: bytes | None) -> WalPushResult:
    """`wal_push`, then record on the sites that took it the newest shipped segment (the RPO clock)."""
    result = wal_push(sites, path, key)
    mark_wal_pushed([s for s in sites if s.name in result.ok_sites], path.name)
    return result


def read_wal_copy(site: Site, copy: WalCopy, key: bytes | None) -> bytes:
    """The WAL file's plain bytes from one copy, after its SHA-256 and (if encrypted) its tags check out."""
    stored = site.get_bytes(copy.key)
    if hashlib.sha256(stored).hexdigest() != copy.sha256:
        raise CorruptObject(f"site {site.name}: {copy.key} does not match its SHA-256")
    if stored.startswith(b"ERPB\x01"):
        if key is None:
            raise BackupError(f"{copy.key} is encrypted and no backup.encryption_key is configured")
        return b"".join(decrypt_stream([stored], key, copy.key))
    return stored


def fetch_named(
    sites: Sequence[Site], name: str, dest: Path, key: bytes | None
) -> tuple[str, dict[str, str]]:
    """Write WAL file `name` to `dest` from the first site with a healthy copy (restore_command)."""
    copies = read_catalog(sites).wal.get(name)
    if not copies:
        raise NoUsableCopy(f"WAL {name} is on no site")
    return fetch_wal(sites, copies, dest, key)


def fetch_wal(
    sites: Sequence[Site], copies: list[WalCopy], dest: Path, key: bytes | None
) -> tuple[str, dict[str, str]]:
    """Write one WAL file to `dest` from the first healthy copy; returns (site used, skipped copies)."""
    by_name = {s.name: s for s in sites}
    skipped: dict[str, str] = {}
    for copy in sorted(copies, key=lambda c: list(by_name).index(c.site) if c.site in by_name else 99):
        site = by_name.get(copy.site)
        if site is None:
            continue
        try:
            data = read_wal_copy(site, copy, key)
        except (SiteError, CorruptObject) as exc:
            skipped[copy.site] = exc.message
            continue
        tmp = dest.with_name(dest.name + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, dest)
        return copy.site, skipped
    raise NoUsableCopy(f"no healthy copy of WAL {dest.name}: {skipped or 'none found'}")


def wanted_wal(wal: dict[str, list[WalCopy]], start_wal: str) -> list[str]:
    """WAL files a restore from a backup starting at `start_wal` may replay: later segments and histories."""
    first_tli, first_no = int(start_wal[:8], 16), segment_number(start_wal)
    names = []
    for name in wal:
        if (
            name.endswith(".history")
            or (is_segment(name)
            and int(name[:8], 16) >= first_tli
            and segment_number(name) >= first_no)
        ):
            names.append(name)
    return names


def prefetch_wal(
    sites: Sequence[Site],
    wal: dict[str, list[WalCopy]],
    start_wal: str,
    spool: Path,
    key: bytes | None,
    concurrency: int = 4,
) -> tuple[int, dict[str, str]]:
    """Download every WAL file the restore may need, in parallel, into `spool`; returns count and skips."""
    spool.mkdir(parents=True, exist_ok=True)
    names = wanted_wal(wal, start_wal)
    skipped: dict[str, str] = {}

    def one(name: str) -> None:
        _site, skips = fetch_wal(sites, wal[name], spool / name, key)
        skipped.update({f"{name}@{s}": why for s, why in skips.items()})

    pool = ThreadPoolExecutor(concurrency)
    try:
        list(pool.map(one, names))
    except BaseException:  # a failed fetch or a signal: start no further downloads
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return len(names), skipped


def continuity(segments: set[str], start_wal: str) -> tuple[str | None, list[str]]:
    """The last segment reachable without a gap from `start_wal`, and the gaps after it (segment numbers)."""
    numbers = {
        segment_number(s) for s in segments if is_segment(s) and int(s[:8], 16) >= int(start_wal[:8], 16)
    }
    first = segment_number(start_wal)
    if first not in numbers:
        return None, [start_wal]
    last = first
    while last + 1 in numbers:
        last += 1
    newest = max(numbers)
    gaps = [f"{n:X}" for n in range(last + 1, newest) if n not in numbers][:10]
    tli = start_wal[:8]
    per_id = 0x100
    return f"{tli}{last // per_id:08X}{last % per_id:08X}", gaps


def wal_names(site_keys: dict[str, int]) -> dict[str, str]:
    """Segment name -> sha256 for the WAL keys of one site listing."""
    out: dict[str, str] = {}
    for key in site_keys:
        parsed = parse_wal_key(key)
        if parsed:
            out[parsed[0]] = parsed[1]
    return out
