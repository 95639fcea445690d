"""Retention: which backups and WAL segments a site may drop, and why each one stays or goes.

The never-delete rule: keep the newest `keep_count` backups, every backup finished inside the
`keep_days` window, the newest backup finished before the window (the base that recovers to the
window's first moment), and every WAL segment from the oldest kept backup's start segment on.
Timeline history files are never deleted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from backup.pgtools import segment_number


@dataclass(frozen=True)
class BackupFacts:
    backup_id: str
    finished_at: dt.datetime
    start_wal: str | None


@dataclass(frozen=True)
class Policy:
    keep_count: int
    keep_days: float


@dataclass(frozen=True)
class RetentionPlan:
    keep: dict[str, str]
    delete: dict[str, str]
    delete_wal: list[str]
    wal_floor: str | None
    reason: str


def plan_retention(
    backups: Sequence[BackupFacts], wal: Sequence[str], policy: Policy, now: dt.datetime
) -> RetentionPlan:
    """Decide, with a reason per backup, what the policy keeps and deletes; never touches `keep`."""
    ordered = sorted(backups, key=lambda b: (b.finished_at, b.backup_id))
    window_start = now - dt.timedelta(days=policy.keep_days)
    keep: dict[str, str] = {}
    for rank, b in enumerate(reversed(ordered)):
        if rank < policy.keep_count:
            keep[b.backup_id] = f"one of the newest {policy.keep_count}"
        elif b.finished_at >= window_start:
            keep[b.backup_id] = f"inside the {policy.keep_days:g}-day window"
    before = [b for b in ordered if b.finished_at < window_start]
    if before and policy.keep_days > 0:
        keep.setdefault(before[-1].backup_id, "base for the start of the recovery window")
    delete = {
        b.backup_id: f"older than the {policy.keep_days:g}-day window and not among the newest {policy.keep_count}"
        for b in ordered
        if b.backup_id not in keep
    }
    starts = [b.start_wal for b in ordered if b.backup_id in keep and b.start_wal]
    floor = min(starts, key=segment_number) if starts else None
    delete_wal: list[str] = []
    if floor is not None and len(starts) == sum(1 for b in ordered if b.backup_id in keep):
        delete_wal = [w for w in wal if len(w) == 24 and segment_number(w) < segment_number(floor)]
    reason = (
        f"keep {len(keep)} backups, delete {len(delete)} backups and {len(delete_wal)} WAL segments "
        f"(WAL kept from {floor or 'the beginning'})"
    )
    return RetentionPlan(keep, delete, sorted(delete_wal), floor, reason)
