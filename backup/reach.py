"""Recovery targets: parsed from the options, and whether the WAL on the sites reaches one, read from the WAL itself with `pg_waldump`.

PostgreSQL stops a time target at the first commit or abort stamped at or after the target, and an xid
target at that transaction's commit or abort. When no such record is in the WAL shipped, recovery ends
"before the configured recovery target was reached" and the server refuses to start: a restore checks
this first and fails with the newest time it can reach instead.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from backup.errors import TargetUnreachable, UsageError

TargetKind = Literal["latest", "immediate", "time", "xid", "name", "lsn"]

_POINT = re.compile(r"desc: RESTORE_POINT (.*)$")
_RECORD = re.compile(
    r"tx:\s+(\d+), lsn: \S+ prev \S+ desc: (COMMIT|ABORT) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (\w+)"
)


@dataclass(frozen=True)
class RecoveryTarget:
    """Where recovery stops: the end of the WAL (latest), the backup's own end (immediate), or a point."""

    kind: TargetKind = "latest"
    value: str = ""

    def settings(self) -> dict[str, str]:
        if self.kind == "latest":
            return {}
        if self.kind == "immediate":
            return {"recovery_target": "immediate"}
        return {f"recovery_target_{self.kind}": self.value}

    def describe(self) -> str:
        return self.kind if not self.value else f"{self.kind} {self.value}"


LATEST = RecoveryTarget()


def parse_target(
    time: str | None = None,
    xid: str | None = None,
    name: str | None = None,
    lsn: str | None = None,
    immediate: bool = False,
) -> RecoveryTarget:
    """The one recovery target the options name (none: the end of the WAL); refuses two, or a bad value."""
    from backup.pgtools import lsn_to_int

    points = {k: v for k, v in {"time": time, "xid": xid, "name": name, "lsn": lsn}.items() if v}
    if len(points) + immediate > 1:
        raise UsageError("choose one of --time, --xid, --name, --lsn, --immediate")
    if immediate:
        return RecoveryTarget("immediate")
    if not points:
        return RecoveryTarget()
    kind, value = next(iter(points.items()))
    try:
        if kind == "time":
            parse_time(value)
        elif kind == "xid" and not value.isdigit():
            raise ValueError(value)
        elif kind == "lsn":
            lsn_to_int(value)
    except ValueError:
        example = {"time": "2025-03-01T12:00:00+00:00", "xid": "1234", "lsn": "0/3000060"}[kind]
        raise UsageError(f"--{kind} {value!r} is not a valid {kind}; e.g. --{kind} {example}") from None
    return RecoveryTarget(kind, value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class TxEnd:
    """A transaction's commit or abort record: where time and xid targets can stop."""

    xid: str
    kind: str
    at: dt.datetime


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time; without a zone it is local time, as PostgreSQL reads it on this machine."""
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo is not None else when.astimezone()


def _waldump(spool: Path, bin_dir: Path, *rmgrs: str) -> Generator[str, None, None]:
    """pg_waldump's lines for `rmgrs` over the WAL segments in `spool`, in WAL order, up to the first gap.

    Lines come as pg_waldump writes them; leaving the loop early stops pg_waldump (so a check reads the WAL
    only up to its target, as recovery will).
    """
    from backup.walarchive import is_segment

    segments = sorted(p.name for p in spool.glob("*") if is_segment(p.name)) if spool.is_dir() else []
    if not segments:
        return
    only = [arg for rmgr in rmgrs for arg in ("--rmgr", rmgr)]
    argv = [str(bin_dir / "pg_waldump"), "--path", str(spool), *only, segments[0], segments[-1]]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert proc.stdout is not None
    try:
        yield from proc.stdout
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
        proc.wait()


def tx_ends(spool: Path, bin_dir: Path, until: Callable[[TxEnd], bool] | None = None) -> list[TxEnd]:
    """Commits and aborts in the WAL segments in `spool`, in WAL order; stops after the first `until` holds."""
    out: list[TxEnd] = []
    lines = _waldump(spool, bin_dir, "Transaction")
    for line in lines:
        match = _RECORD.search(line)
        if match is None:
            continue
        stamp = dt.datetime.fromisoformat(match.group(3))
        at = stamp.replace(tzinfo=dt.UTC) if match.group(4) == "UTC" else stamp.astimezone()
        out.append(TxEnd(match.group(1), match.group(2), at))
        if until is not None and until(out[-1]):
            break
    lines.close()
    return out


def restore_points(spool: Path, bin_dir: Path, until: str | None = None) -> list[str]:
    """Names of the restore points (pg_create_restore_point) in the WAL in `spool`; stops at `until`."""
    out: list[str] = []
    lines = _waldump(spool, bin_dir, "XLOG")
    for line in lines:
        match = _POINT.search(line)
        if match is not None:
            out.append(match.group(1).rstrip("\n"))
            if out[-1] == until:
                break
    lines.close()
    return out


def commit_times(spool: Path, bin_dir: Path) -> list[tuple[str, dt.datetime]]:
    """(xid, commit time) of every commit in the spooled WAL: the points a time target can actually reach."""
    return [(t.xid, t.at) for t in tx_ends(spool, bin_dir) if t.kind == "COMMIT"]


def check_reachable(kind: str, value: str, spool: Path, bin_dir: Path, backup_end: dt.datetime) -> str:
    """The reason a time, xid or restore-point target is reachable with the WAL in `spool`; raises TargetUnreachable if not.

    A time target stops before the first commit stamped after it, so only times before the last shipped
    commit are reachable (that commit itself is included by a restore without a target).
    """
    if kind == "name":
        return _check_point(value, restore_points(spool, bin_dir, until=value))
    if kind == "time":
        target = parse_time(value)
        ends = tx_ends(spool, bin_dir, until=lambda t: t.at > target)
    else:
        ends = tx_ends(spool, bin_dir, until=lambda t: t.xid == value)
    newest = max((t.at for t in ends), default=None)
    if newest is not None and newest > backup_end:
        newest_text = (
            f"the newest reachable time is {(newest - dt.timedelta(microseconds=1)).isoformat()}, just before "
            f"the last commit in the WAL on the sites ({newest.isoformat()}; restore without --time to include it)"
        )
    else:
        newest_text = f"no commit after the backup reached a site: restore with --immediate (the backup's end, {backup_end.isoformat()})"
    if kind == "time":
        if newest is None or newest <= target:
            raise TargetUnreachable(
                f"cannot recover to {target.isoformat()}: the WAL past it never reached a site; {newest_text}. "
                "Ship WAL (erpops backup wal-stream or archive_command) or choose an earlier --time"
            )
        return f"WAL on the sites reaches {target.isoformat()} (a commit at {newest.isoformat()} follows it)"
    match = next((t for t in ends if t.xid == value), None)
    if match is None:
        raise TargetUnreachable(
            f"cannot recover to transaction {value}: its commit or abort is in no WAL on the sites; {newest_text}"
        )
    return f"WAL on the sites holds the {match.kind.lower()} of transaction {value} at {match.at.isoformat()}"


def _check_point(name: str, points: list[str]) -> str:
    if name not in points:
        known = ", ".join(points[-3:]) or "none"
        raise TargetUnreachable(
            f"cannot recover to restore point {name!r}: it is in no WAL on the sites (the newest there: {known}). "
            "Check the name (every base backup writes erpops-<backup id>), or ship WAL and retry"
        )
    return f"WAL on the sites holds restore point {name!r}"
