"""Time-bounded batches: sizes follow how long the last batch took, within their bounds."""

from __future__ import annotations

from archive.sizing import FIRST, BatchSizer


def test_a_family_starts_small_and_grows_at_most_fourfold_towards_the_target() -> None:
    sizer = BatchSizer(most=2000, target_s=0.25)
    assert sizer.size == FIRST
    assert sizer.after(0.01) == 4 * FIRST  # 25 times too fast: four times larger, not 25
    assert sizer.after(0.125) == 8 * FIRST  # twice too fast: doubled
    assert sizer.after(0.25) == 8 * FIRST  # on target: unchanged


def test_a_slow_batch_shrinks_the_next_one_and_the_size_stays_within_bounds() -> None:
    sizer = BatchSizer(most=300, target_s=0.25, size=200)
    assert sizer.after(0.5) == 100  # twice too slow: halved
    assert sizer.after(10.0) == 50  # far too slow: halved, not cut 40-fold
    for _ in range(10):
        sizer.after(0.001)
    assert sizer.size == 300  # never past `most`
    tiny = BatchSizer(most=300, target_s=0.25, size=1)
    assert tiny.after(60.0) == 1 and "about 0.25 s" in tiny.reason


def test_without_a_time_bound_every_batch_takes_the_batch_size() -> None:
    sizer = BatchSizer(most=5, target_s=0)
    assert sizer.size == 5 and sizer.after(30.0) == 5 and sizer.reason == "fixed batches of 5 documents"


def test_a_server_side_batch_is_cancelled_before_a_waiter_could_wait_the_issues_half_second() -> None:
    from types import SimpleNamespace

    from archive.runner import _guard_ms
    from archive.settings import ArchiveSettings

    def guard(**kw: float) -> int | None:
        return _guard_ms(SimpleNamespace(settings=ArchiveSettings(**kw)))  # type: ignore[arg-type]

    assert guard() == 375 and guard() < 500  # the default 0.25 s bound: 375 ms, room for the rollback
    assert guard(batch_seconds=2) == 3000
    assert guard(batch_seconds=0) is None  # fixed batches: no time bound to guard
