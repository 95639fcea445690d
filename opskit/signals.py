"""SIGTERM runs the same clean-up as SIGINT and as a failure: it becomes an exception that unwinds the stack.

Every `finally` and context manager a command set up (clusters, servers, firewall tables, temp dirs) then
runs on `timeout`, a CI cancel or `kill`, as it does on Ctrl-C.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives (a BaseException, like KeyboardInterrupt)."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise Terminated(f"signal {signum}")


@contextmanager
def sigterm_unwinds() -> Iterator[None]:
    """Within the block, SIGTERM raises `Terminated` in the main thread; the old handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@dataclass
class StopRequest:
    """Set by SIGTERM or SIGINT inside `stop_requested()`: a loop checks it between steps and returns."""

    event: threading.Event = field(default_factory=threading.Event)
    signum: int | None = None

    @property
    def requested(self) -> bool:
        return self.event.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to `seconds`, waking at once when a stop is requested; returns whether it was."""
        return self.event.wait(max(0.0, seconds))


@contextmanager
def stop_requested() -> Iterator[StopRequest]:
    """Within the block, SIGTERM and SIGINT do not raise: they set the yielded `StopRequest`, so a loop
    finishes the step in hand (and records it) before it stops. The old handlers come back after."""
    stop = StopRequest()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def _set(signum: int, frame: FrameType | None) -> None:
        stop.signum = signum
        stop.event.set()

    previous = {sig: signal.signal(sig, _set) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
