"""Throttling between batches: a fixed sleep, a rows-per-second cap, and a pause while replicas lag."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Engine, text

from archive.settings import ArchiveSettings

LAG_POLL_S = 1.0  # while paused for lag, and at most this often between batches


def replica_lag(engine: Engine) -> float:
    """The largest replay lag of the primary's streaming replicas in seconds (0 without replicas)."""
    with engine.connect() as conn:
        value = conn.execute(text("SELECT COALESCE(MAX(EXTRACT(EPOCH FROM replay_lag)), 0) "
                                  "FROM pg_stat_replication")).scalar_one()
    return float(value)


@dataclass
class Throttle:
    """Sleeps after each batch as the settings ask; `throttled_s` is the time spent waiting."""

    sleep_s: float = 0.0
    max_rows_per_s: float = 0.0
    max_lag_s: float = 30.0
    lag: Callable[[], float] | None = None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    throttled_s: float = 0.0
    rows: int = 0
    started: float = field(default=-1.0)
    pauses: list[str] = field(default_factory=list)
    lag_checked: float = field(default=float("-inf"))

    @classmethod
    def from_settings(cls, settings: ArchiveSettings, engine: Engine) -> Throttle:
        lag = (lambda: replica_lag(engine)) if engine.dialect.name == "postgresql" else None
        return cls(settings.sleep_seconds, settings.max_rows_per_second, settings.max_replica_lag_seconds, lag)

    def __post_init__(self) -> None:
        if self.started < 0:
            self.started = self.clock()

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.sleep(seconds)
            self.throttled_s += seconds

    def after_batch(self, rows: int, deadline: float | None = None) -> None:
        """Wait as long as the sleep, the rate cap and the replicas' lag ask (never past `deadline`)."""
        self.rows += rows
        self._wait(self.sleep_s)
        if self.max_rows_per_s > 0:
            earliest = self.started + self.rows / self.max_rows_per_s
            self._wait(min(earliest, deadline or earliest) - self.clock())
        if self.lag is None or self.clock() - self.lag_checked < LAG_POLL_S:
            return
        while (lag := self.lag()) > self.max_lag_s:
            if deadline is not None and self.clock() >= deadline:
                break
            self.pauses.append(f"replica lag {lag:.1f}s over {self.max_lag_s:g}s")
            self._wait(LAG_POLL_S)
        self.lag_checked = self.clock()
