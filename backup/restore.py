"""Restore a backup from whichever site has a healthy copy: into a new PostgreSQL data directory
(with WAL fetched ahead in parallel and a recovery target), or into a new SQLite file.

Each object is streamed once: hashed, decrypted, decompressed and unpacked on the fly. When its
SHA-256 or an encryption tag does not match, the partial result is wiped and the next site is tried.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from backup.catalog import BackupEntry, Catalog, WalCopy, read_catalog
from backup.crypto import decrypt_stream, key_id
from backup.errors import BackupError, CorruptObject, NoUsableCopy, SiteError, UsageError, WrongKey
from backup.fanout import Bars
from backup.manifest import FileEntry, Manifest, file_key
from backup.reach import LATEST, RecoveryTarget
from backup.settings import BackupSettings
from backup.sites.base import Site

SPOOL = "erpops_restore_wal"
ProgressFn = Callable[[str, int], None]


@dataclass
class RestoreResult:
    backup_id: str
    target: str
    site: str
    path: str
    seconds: float
    wal_files: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    reason: str = ""


def check_key(manifest: Manifest, key: bytes | None) -> None:
    """Refuse before any download when the backup's key id is not the configured key's."""
    if manifest.key_id is None:
        return
    if key is None:
        raise WrongKey(
            f"backup {manifest.backup_id} is encrypted (key id {manifest.key_id}) and no backup.encryption_key is set"
        )
    if key_id(key) != manifest.key_id:
        raise WrongKey(
            f"backup {manifest.backup_id} was encrypted with key id {manifest.key_id}, but the configured key "
            f"has id {key_id(key)}: set backup.encryption_key to the key the backup was made with"
        )


def choose_backup(catalog: Catalog, target: RecoveryTarget, backup_id: str | None) -> BackupEntry:
    """The named backup, else the newest one that ends before the target point."""
    if backup_id or target.kind not in ("time", "lsn"):
        return catalog.backup(backup_id)
    candidates = [
        e for e in catalog.backups if e.manifest.kind == "physical" and _ends_before(e.manifest, target)
    ]
    if not candidates:
        raise NoUsableCopy(f"no backup finished before {target.describe()}")
    return candidates[-1]


def _ends_before(manifest: Manifest, target: RecoveryTarget) -> bool:
    if target.kind == "time":
        when = dt.datetime.fromisoformat(target.value)
        if when.tzinfo is None:
            when = when.astimezone()
        return manifest.finished <= when
    from backup.pgtools import lsn_to_int

    return manifest.end_lsn is not None and lsn_to_int(manifest.end_lsn) <= lsn_to_int(target.value)


def site_order(sites: Sequence[Site], holders: list[str]) -> list[Site]:
    """Sites holding the backup, local ones first (cheapest to read)."""
    chosen = [s for s in sites if s.name in holders]
    return sorted(chosen, key=lambda s: 0 if type(s).__name__ == "LocalSite" else 1)


def stream_verified(site: Site, backup_id: str, entry: FileEntry, key: bytes | None) -> Iterator[bytes]:
    """The plain bytes of one backup file from one site; raises CorruptObject at the end on a bad hash."""
    digest = hashlib.sha256()
    size = 0

    def stored() -> Iterator[bytes]:
        nonlocal size
        for chunk in site.read(file_key(backup_id, entry.name)):
            digest.update(chunk)
            size += len(chunk)
            yield chunk
        if size != entry.size or digest.hexdigest() != entry.sha256:
            raise CorruptObject(
                f"site {site.name}: {entry.name} of {backup_id} has {size} bytes sha256 {digest.hexdigest()[:12]}, "
                f"manifest says {entry.size} bytes sha256 {entry.sha256[:12]}"
            )

    if entry.encrypted:
        assert key is not None
        yield from decrypt_stream(stored(), key, f"{entry.name} of {backup_id}")
    else:
        yield from stored()


def from_any_site(
    sites: Sequence[Site],
    backup: BackupEntry,
    entry: FileEntry,
    key: bytes | None,
    consume: Callable[[Iterator[bytes]], None],
    wipe: Callable[[], None],
) -> tuple[str, dict[str, str]]:
    skipped: dict[str, str] = {}
    for site in site_order(sites, backup.sites):
        try:
            consume(stream_verified(site, backup.backup_id, entry, key))
            return site.name, skipped
        except (SiteError, CorruptObject) as exc:
            skipped[site.name] = exc.message
            wipe()
    raise NoUsableCopy(f"no site holds a healthy copy of {entry.name} of {backup.backup_id}: {skipped}")


def restore_sqlite(
    settings: BackupSettings, sites: Sequence[Site], target: Path, backup_id: str | None = None
) -> RestoreResult:
    """Restore a SQLite backup into a new file `target`."""
    began = time.monotonic()
    backup = read_catalog(sites, with_wal=False).backup(backup_id)
    manifest = backup.manifest
    if manifest.engine != "sqlite":
        raise BackupError(f"backup {manifest.backup_id} is a {manifest.engine} backup, not SQLite")
    key = settings.key_bytes()
    check_key(manifest, key)
    if target.exists():
        raise BackupError(f"{target} exists: restore into a new file")
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")

    def consume(chunks: Iterator[bytes]) -> None:
        with part.open("wb") as fh:
            for chunk in chunks:
                fh.write(chunk)

    site, skipped = from_any_site(
        sites, backup, manifest.files[0], key, consume, lambda: part.unlink(missing_ok=True)
    )
    os.replace(part, target)
    return RestoreResult(
        manifest.backup_id,
        "immediate",
        site,
        str(target),
        time.monotonic() - began,
        skipped=skipped,
        reason=f"restored SQLite backup {manifest.backup_id} from site {site}" + _skips(skipped),
    )


def restore_postgres(
    settings: BackupSettings,
    sites: Sequence[Site],
    target_dir: Path,
    target: RecoveryTarget = LATEST,
    backup_id: str | None = None,
    owner: str | None = None,
    progress: ProgressFn | None = None,
    wal_until: str | None = None,
) -> RestoreResult:
    """Unpack a base backup into the new data directory `target_dir` and set up recovery to `target`.

    `wal_until`: the last WAL segment recovery can need (the drill knows it for its restore point);
    later segments are not fetched.
    """

    began = time.monotonic()
    catalog = read_catalog(sites)
    backup = choose_backup(catalog, target, backup_id)
    manifest = backup.manifest
    if manifest.engine != "postgresql":
        raise BackupError(f"backup {manifest.backup_id} is a {manifest.engine} backup, not PostgreSQL")
    key = settings.key_bytes()
    check_key(manifest, key)
    if target_dir.exists() and any(target_dir.iterdir()):
        raise BackupError(f"{target_dir} is not empty: restore into a new data directory")
    made = not target_dir.exists()
    try:
        target_dir.mkdir(parents=True, exist_ok=True)
        site, wal_files, skipped, reached = _unpack(
            settings, sites, catalog, backup, target_dir, target, progress, wal_until
        )
    except BaseException:
        _discard(target_dir, made)
        raise
    if owner:
        _chown(target_dir, owner)
    os.chmod(target_dir, 0o700)
    return RestoreResult(
        manifest.backup_id,
        target.describe(),
        site,
        str(target_dir),
        time.monotonic() - began,
        wal_files,
        skipped,
        f"restored backup {manifest.backup_id} from site {site} with {wal_files} WAL files, "
        f"recovery target {target.describe()}" + (f"; {reached}" if reached else "") + _skips(skipped),
    )


def _unpack(
    settings: BackupSettings,
    sites: Sequence[Site],
    catalog: Catalog,
    backup: BackupEntry,
    target_dir: Path,
    target: RecoveryTarget,
    progress: ProgressFn | None,
    wal_until: str | None,
) -> tuple[str, int, dict[str, str], str]:
    """Base backup, WAL and recovery settings into `target_dir`; (site, WAL files, skipped copies, reach)."""
    from backup.reach import check_reachable
    from backup.walarchive import prefetch_wal
    from opskit.pg import pg_bin_dir

    manifest, key, entry = backup.manifest, settings.key_bytes(), backup.manifest.files[0]
    site, skipped = from_any_site(
        sites,
        backup,
        entry,
        key,
        lambda chunks: _untar(chunks, entry.compression, target_dir, progress),
        lambda: _empty(target_dir),
    )
    wal_files, reached = 0, ""
    if target.kind != "immediate" and manifest.start_wal:
        wal_files, wal_skips = prefetch_wal(
            sites,
            _wal_up_to(catalog, wal_until),
            manifest.start_wal,
            target_dir / SPOOL,
            key,
            settings.restore_concurrency,
        )
        skipped.update(wal_skips)
    if target.kind in ("time", "xid", "name"):
        bin_dir = pg_bin_dir(settings.pg_bin_dir)
        reached = check_reachable(target.kind, target.value, target_dir / SPOOL, bin_dir, manifest.finished)
    write_recovery_config(target_dir, target)
    return site, wal_files, skipped, reached


def _discard(target_dir: Path, made: bool) -> None:
    """Leave nothing half-written: remove the directory this restore made, or empty the one it was given."""
    if made:
        shutil.rmtree(target_dir, ignore_errors=True)
    elif target_dir.is_dir():
        _empty(target_dir)


def restore(
    settings: BackupSettings,
    sites: Sequence[Site],
    to: Path,
    target: RecoveryTarget = LATEST,
    backup_id: str | None = None,
    owner: str | None = None,
    bars: Bars | None = None,
) -> RestoreResult:
    """Restore into `to` with the engine the backup was made on (a SQLite file or a PostgreSQL data directory)."""
    from backup.fanout import phase

    engine = read_catalog(sites, with_wal=False).backup(backup_id).manifest.engine
    if engine == "sqlite":
        if target.kind != "latest":
            raise UsageError(
                f"a SQLite backup restores as it was taken: {target.describe()} needs PostgreSQL"
            )
        return restore_sqlite(settings, sites, to, backup_id)
    with phase(bars) as progress:
        return restore_postgres(settings, sites, to, target, backup_id, owner, progress)


def _wal_up_to(catalog: Catalog, last: str | None) -> dict[str, list[WalCopy]]:
    from backup.pgtools import segment_number
    from backup.walarchive import is_segment

    if last is None:
        return catalog.wal
    end = segment_number(last)
    return {n: c for n, c in catalog.wal.items() if not is_segment(n) or segment_number(n) <= end}


def _skips(skipped: dict[str, str]) -> str:
    return f"; skipped unhealthy copies: {skipped}" if skipped else ""


def _untar(chunks: Iterator[bytes], compression: str, target_dir: Path, progress: ProgressFn | None) -> None:
    """Decompress and unpack a stream; the tools' own error text goes into the raised reason, never to stderr."""
    from backup.pgtools import DECOMPRESS

    tar = ["tar", "-x", "-C", str(target_dir), "-f", "-"]
    with tempfile.TemporaryFile() as errors:
        decomp = None
        if compression in DECOMPRESS:
            decomp = subprocess.Popen(
                DECOMPRESS[compression], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=errors
            )
            untar = subprocess.Popen(tar, stdin=decomp.stdout, stderr=errors)
            assert decomp.stdout is not None
            decomp.stdout.close()
            sink = decomp.stdin
        else:
            untar = subprocess.Popen(tar, stdin=subprocess.PIPE, stderr=errors)
            sink = untar.stdin
        assert sink is not None
        try:
            for chunk in chunks:
                sink.write(chunk)
                if progress:
                    progress("restore", len(chunk))
        except BrokenPipeError as exc:
            raise CorruptObject(f"unpacking failed: {_finish(decomp, untar, errors)}") from exc
        except CorruptObject:
            sink.close()
            _finish(decomp, untar, errors)
            raise
        except BaseException:  # stopped (a signal) or a bug: end the children at once, do not drain them
            for proc in (decomp, untar):
                if proc is not None:
                    proc.kill()
            sink.close()
            _finish(decomp, untar, errors)
            raise
        sink.close()
        problem = _finish(decomp, untar, errors)
    if problem:
        raise CorruptObject(f"unpacking the base backup failed: {problem}")


def _finish(decomp: subprocess.Popen[bytes] | None, untar: subprocess.Popen[bytes], errors: IO[bytes]) -> str:
    """Wait for both children; what went wrong, with their stderr (e.g. zstd's), or ''."""
    problems = []
    if decomp is not None and decomp.wait() != 0:
        problems.append(f"decompressor exit {decomp.returncode}")
    if decomp is not None and decomp.stdin is not None and not decomp.stdin.closed:
        decomp.stdin.close()
    if untar.wait() != 0:
        problems.append(f"tar exit {untar.returncode}")
    if problems:
        errors.seek(0)
        text = " ".join(errors.read().decode(errors="replace").split())
        problems.append(text[-300:])
    return "; ".join(p for p in problems if p)


def _empty(directory: Path) -> None:
    for child in directory.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child)
        else:
            child.unlink()


def write_recovery_config(data_dir: Path, target: RecoveryTarget) -> None:
    """recovery.signal plus restore settings; archiving off so a restored copy never writes to the sites."""
    spool = data_dir / SPOOL
    lines = [
        "# erpops backup restore",
        f'restore_command = \'cp "{spool}/%f" "%p"\'',
        "recovery_target_action = 'promote'",
        "recovery_target_timeline = 'latest'",
        "archive_mode = 'off'",
    ]
    lines += [f"{name} = '{value}'" for name, value in target.settings().items()]
    with (data_dir / "postgresql.auto.conf").open("a") as fh:
        fh.write("\n" + "\n".join(lines) + "\n")
    (data_dir / "recovery.signal").touch()


def _chown(root: Path, owner: str) -> None:
    for dirpath, dirs, files in os.walk(root):
        for name in [*dirs, *files]:
            shutil.chown(os.path.join(dirpath, name), owner, owner)
    shutil.chown(root, owner, owner)
