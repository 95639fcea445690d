"""SIGINT/SIGTERM during a run: finish the batch in flight, then stop with the signal's exit code."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType


@dataclass
class StopFlag:
    signum: int | None = None

    def __call__(self) -> bool:
        return self.signum is not None

    @property
    def exit_code(self) -> int:
        return 128 + self.signum if self.signum else 0


@contextmanager
def stop_on_signals() -> Iterator[StopFlag]:
    """A flag the run polls between batches; the previous handlers come back afterwards."""
    flag = StopFlag()

    def handler(signum: int, _frame: FrameType | None) -> None:
        flag.signum = signum

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield flag
    finally:
        for s, h in previous.items():
            signal.signal(s, h)
