"""Clean-up that a second Ctrl-C or SIGTERM cannot cut short.

The first SIGINT or SIGTERM unwinds the stack (`opskit.signals`), and the `finally` blocks stop clusters,
servers and firewall tables. A second signal arriving then would raise again in the middle of that clean-up
and leave half of it undone; inside `deferred_signals()` it is held back and delivered after the block.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType, TracebackType
from typing import Self

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class deferred_signals:
    """Hold SIGINT and SIGTERM during the block; one that arrived is delivered when the block ends normally.

    When the block ends with an exception already on its way (the interruption being cleaned up after),
    a held signal is dropped: the command is stopping anyway.
    """

    def __init__(self) -> None:
        self.pending: list[int] = []
        self._previous: dict[int, object] = {}

    def _hold(self, signum: int, frame: FrameType | None) -> None:
        self.pending.append(signum)

    def __enter__(self) -> Self:
        if threading.current_thread() is threading.main_thread():
            self._previous = {int(s): signal.signal(s, self._hold) for s in SIGNALS}
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)  # type: ignore[arg-type]
        self._previous = {}
        if exc_type is None and self.pending:
            signal.raise_signal(self.pending[0])
