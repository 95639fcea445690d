"""`opskit.signals.stop_requested`: SIGTERM and SIGINT set a flag a loop checks, instead of raising."""

from __future__ import annotations

import os
import signal
import threading

from opskit.signals import stop_requested


def test_sigterm_and_sigint_set_the_flag_and_the_old_handlers_come_back() -> None:
    before = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    for sig in (signal.SIGTERM, signal.SIGINT):
        with stop_requested() as stop:
            assert not stop.requested
            os.kill(os.getpid(), sig)  # delivered to the main thread before the next bytecode
            assert stop.wait(5.0)
            assert stop.requested and stop.signum == sig
        assert {s: signal.getsignal(s) for s in before} == before


def test_wait_returns_early_on_a_stop_and_false_on_timeout() -> None:
    with stop_requested() as stop:
        assert stop.wait(0.01) is False
        threading.Timer(0.05, lambda: os.kill(os.getpid(), signal.SIGTERM)).start()
        assert stop.wait(10.0) is True


def test_outside_the_main_thread_it_changes_no_handler() -> None:
    seen: list[bool] = []

    def run() -> None:
        with stop_requested() as stop:
            seen.append(stop.requested)

    before = signal.getsignal(signal.SIGTERM)
    t = threading.Thread(target=run)
    t.start()
    t.join(5)
    assert seen == [False] and signal.getsignal(signal.SIGTERM) == before
