"""SIGTERM and SIGINT during a run set a flag the loop reads between batches; the old handlers come back."""

from __future__ import annotations

import os
import signal

from archive.signals import StopFlag, stop_on_signals


def test_a_signal_sets_the_flag_and_its_exit_code() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals() as stop:
        assert not stop() and stop.exit_code == 0
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop() and stop.exit_code == 143
    assert signal.getsignal(signal.SIGTERM) == before


def test_interrupt_is_130() -> None:
    assert StopFlag(signal.SIGINT).exit_code == 130
