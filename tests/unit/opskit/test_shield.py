"""Clean-up that a second Ctrl-C or SIGTERM cannot cut short."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from opskit.shield import deferred_signals
from opskit.signals import Terminated, sigterm_unwinds


def test_a_second_sigterm_during_clean_up_is_held_until_it_is_done() -> None:
    done: list[str] = []
    with pytest.raises(Terminated), sigterm_unwinds():
        with deferred_signals() as held:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.05)  # the handler runs here: it only notes the signal
            done.append("cleaned")
        pytest.fail("the held SIGTERM must be delivered when the block ends")
    assert done == ["cleaned"] and held.pending == [signal.SIGTERM]


def test_a_held_signal_is_dropped_when_the_block_ends_by_the_interruption_itself() -> None:
    handlers = (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
    with pytest.raises(KeyboardInterrupt), sigterm_unwinds(), deferred_signals():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        raise KeyboardInterrupt
    assert (signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)) == handlers


def test_a_ctrl_c_during_clean_up_is_held_too() -> None:
    steps: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        with deferred_signals():
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.05)
            steps.append("cleaned")
        steps.append("never")
    assert steps == ["cleaned"]


def test_deferred_signals_outside_the_main_thread_change_nothing() -> None:
    seen: list[object] = []

    def body() -> None:
        with deferred_signals() as held:
            seen.append(held.pending)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join(5)
    assert seen == [[]]
