"""Retention: the never-delete rule, proven over generated histories (hypothesis), plus worked examples."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from backup.pgtools import segment_number
from backup.retention import BackupFacts, Policy, plan_retention

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def seg(n: int) -> str:
    return f"00000001{n // 256:08X}{n % 256:08X}"


@st.composite
def histories(draw: st.DrawFn) -> tuple[list[BackupFacts], list[str], Policy]:
    ages = draw(st.lists(st.floats(0, 60, allow_nan=False), min_size=0, max_size=12, unique=True))
    ages.sort(reverse=True)  # oldest first
    backups = []
    segment = draw(st.integers(2, 50))
    for i, age in enumerate(ages):
        segment += draw(st.integers(0, 40))
        backups.append(BackupFacts(f"b{i:02d}", NOW - dt.timedelta(days=age), seg(segment)))
    newest = segment + draw(st.integers(0, 20))
    wal = [seg(n) for n in range(2, newest + 1)] + ["00000002.history"]
    policy = Policy(draw(st.integers(1, 5)), draw(st.floats(0, 30, allow_nan=False)))
    return backups, wal, policy


@settings(max_examples=300, deadline=None)
@given(histories())
def test_never_deletes_what_the_kept_window_needs(
    history: tuple[list[BackupFacts], list[str], Policy],
) -> None:
    backups, wal, policy = history
    plan = plan_retention(backups, wal, policy, NOW)
    ids = {b.backup_id for b in backups}
    assert set(plan.keep) | set(plan.delete) == ids and not set(plan.keep) & set(plan.delete)
    ordered = sorted(backups, key=lambda b: b.finished_at)
    # the newest keep_count backups stay
    assert {b.backup_id for b in ordered[-policy.keep_count :]} <= set(plan.keep)
    # every backup inside the window stays
    window_start = NOW - dt.timedelta(days=policy.keep_days)
    assert {b.backup_id for b in ordered if b.finished_at >= window_start} <= set(plan.keep)
    # every moment of the window that was recoverable still is: a kept base before it, and WAL from its start
    before = [b for b in ordered if b.finished_at < window_start]
    if before and policy.keep_days > 0:
        assert before[-1].backup_id in plan.keep
    kept_starts = [segment_number(b.start_wal) for b in ordered if b.backup_id in plan.keep and b.start_wal]
    for name in plan.delete_wal:
        assert segment_number(name) < min(kept_starts)
    assert "00000002.history" not in plan.delete_wal
    assert all(w in wal for w in plan.delete_wal)


def test_worked_example_reasons() -> None:
    backups = [
        BackupFacts(f"b{i}", NOW - dt.timedelta(days=d), seg(10 * i + 2))
        for i, d in enumerate([20, 12, 9, 3, 1])
    ]
    wal = [seg(n) for n in range(2, 60)]
    plan = plan_retention(backups, wal, Policy(keep_count=1, keep_days=7), NOW)
    assert plan.keep == {
        "b4": "one of the newest 1",
        "b3": "inside the 7-day window",
        "b2": "base for the start of the recovery window",
    }
    assert set(plan.delete) == {"b0", "b1"}
    assert plan.wal_floor == seg(22) and plan.delete_wal == [seg(n) for n in range(2, 22)]
    assert plan.reason == f"keep 3 backups, delete 2 backups and 20 WAL segments (WAL kept from {seg(22)})"
