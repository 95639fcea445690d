"""The delivery worker: retries with back-off until a receiver comes back, newest body wins, never blocks."""

from __future__ import annotations

import time

from monitor.delivery import DeliveryWorker
from monitor.notifiers import MemoryNotifier


def test_a_receiver_that_is_down_gets_the_notification_after_it_comes_back() -> None:
    receiver = MemoryNotifier()
    receiver.down = True
    worker = DeliveryWorker(receiver, min_backoff=0.01, max_backoff=0.05).start()
    try:
        started = time.monotonic()
        worker.submit("g1", {"status": "firing"})
        assert time.monotonic() - started < 0.05  # submit never waits for the receiver
        deadline = time.monotonic() + 5
        while receiver.refused < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert receiver.refused >= 3 and receiver.received == []
        receiver.down = False
        assert worker.drain(5.0)
        assert receiver.received == [{"status": "firing"}]
        assert worker.records[-1].ok and worker.records[-1].attempts >= 4
        assert any("retry in" in r.reason for r in worker.records)
    finally:
        worker.stop()


def test_a_newer_body_for_the_same_group_replaces_the_queued_one() -> None:
    receiver = MemoryNotifier()
    receiver.down = True
    worker = DeliveryWorker(receiver, min_backoff=0.05, max_backoff=0.05).start()
    try:
        worker.submit("g1", {"n": 1})
        worker.submit("g1", {"n": 2})
        worker.submit("g2", {"n": 3})
        time.sleep(0.02)
        receiver.down = False
        assert worker.drain(5.0)
        assert sorted(b["n"] for b in receiver.received) == [2, 3]
    finally:
        worker.stop()


def test_gives_up_after_max_age_with_a_reason() -> None:
    receiver = MemoryNotifier()
    receiver.down = True
    worker = DeliveryWorker(receiver, min_backoff=0.01, max_backoff=0.01, max_age=0.05).start()
    try:
        worker.submit("g1", {})
        assert worker.drain(5.0)
        assert not worker.records[-1].ok and worker.records[-1].reason.startswith("gave up after")
    finally:
        worker.stop()
