"""Real HTTP delivery: a webhook receiver that is down gets the notification once it comes back."""

from __future__ import annotations

import time

from monitor.alert import Alert
from monitor.delivery import DeliveryWorker
from monitor.dispatcher import Dispatcher, Route
from monitor.notifiers import WebhookNotifier
from opskit.ports import free_port
from tests.integration.monitor.helpers import Receiver


def test_receiver_down_then_back_gets_the_notification() -> None:
    port = free_port()
    worker = DeliveryWorker(WebhookNotifier(f"http://127.0.0.1:{port}/hook", timeout=1.0),
                            min_backoff=0.05, max_backoff=0.2).start()
    dispatcher = Dispatcher(Route(receiver="oncall", group_wait=0))
    now = time.time()
    dispatcher.put([Alert({"alertname": "PostgresqlDown", "severity": "critical"}, {"summary": "down"}, now)], now)
    note = dispatcher.flush(now).notifications[0]
    receiver = Receiver(port)
    try:
        worker.submit(note.group_key, note.body)
        deadline = time.time() + 5
        while worker.failed_attempts < 2 and time.time() < deadline:
            time.sleep(0.01)
        assert worker.failed_attempts >= 2 and "ConnectError" in worker.records[-1].reason
        receiver.start()
        bodies = receiver.wait(1, timeout=5)
        assert worker.drain(5)
    finally:
        worker.stop()
        receiver.stop()
    assert bodies == [note.body]
    assert worker.records[-1].ok and worker.records[-1].attempts >= 3
