"""Throttling with a fake clock: sleep per batch, a rows/s cap, a pause while replicas lag."""

from __future__ import annotations

from archive.throttle import Throttle


class Clock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


def test_a_fixed_sleep_after_every_batch() -> None:
    clock = Clock()
    throttle = Throttle(sleep_s=0.5, clock=clock.time, sleep=clock.sleep)
    throttle.after_batch(100)
    throttle.after_batch(100)
    assert clock.slept == [0.5, 0.5] and throttle.throttled_s == 1.0


def test_the_rate_cap_spaces_batches_out() -> None:
    clock = Clock()
    throttle = Throttle(max_rows_per_s=100, clock=clock.time, sleep=clock.sleep)
    throttle.after_batch(200)  # 200 rows at 100 rows/s: the run may not be ahead of t0 + 2 s
    assert clock.slept == [2.0]
    clock.now += 5  # a slow batch: already behind the cap, no sleep
    throttle.after_batch(100)
    assert clock.slept == [2.0]


def test_replica_lag_pauses_until_it_recovers() -> None:
    clock = Clock()
    lags = iter([45.0, 40.0, 10.0])
    throttle = Throttle(max_lag_s=30, lag=lambda: next(lags), clock=clock.time, sleep=clock.sleep)
    throttle.after_batch(10)
    assert clock.slept == [1.0, 1.0] and len(throttle.pauses) == 2
    assert "replica lag 45.0s over 30s" in throttle.pauses[0]


def test_a_lagging_replica_never_holds_the_run_past_its_deadline() -> None:
    clock = Clock()
    throttle = Throttle(max_lag_s=1, lag=lambda: 99.0, clock=clock.time, sleep=clock.sleep)
    throttle.after_batch(10, deadline=clock.now + 3)
    assert sum(clock.slept) == 3.0
