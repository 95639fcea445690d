"""Webhook delivery rules without a database: topic patterns, the HMAC signature, the back-off schedule."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from decimal import Decimal

import pytest

from erpcore.domain.delivery import MessageStatus, after_attempt, backoff, sign, verify, wants
from erpcore.domain.events import GoodsReceived, IntegrationEvent, RequisitionRaised

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


def test_signature_is_hmac_sha256_of_the_exact_body() -> None:
    body = b'{"id":"e1","topic":"sales.order.approved"}'
    expected = hmac.new(b"s3cret-s3cret-s3cret", body, hashlib.sha256).hexdigest()
    assert sign("s3cret-s3cret-s3cret", body) == "sha256=" + expected
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    assert sign("Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


def test_a_receiver_rejects_a_changed_body_or_another_secret() -> None:
    body = b'{"amount":"10.00"}'
    header = sign("secret-one-secret", body)
    assert verify("secret-one-secret", body, header)
    assert not verify("secret-one-secret", b'{"amount":"99.00"}', header)
    assert not verify("secret-two-secret", body, header)


@pytest.mark.parametrize(("attempt", "low", "high"), [(1, 1.0, 2.0), (2, 2.0, 4.0), (3, 4.0, 8.0), (4, 8.0, 16.0),
                                                      (7, 30.0, 60.0), (50, 30.0, 60.0)])
def test_backoff_doubles_up_to_the_cap_with_jitter_between_half_and_all(attempt: int, low: float,
                                                                         high: float) -> None:
    assert backoff(attempt, 2.0, 60.0, 0.0) == low
    assert low < backoff(attempt, 2.0, 60.0, 0.5) < high
    assert backoff(attempt, 2.0, 60.0, 0.999999) == pytest.approx(high, rel=1e-5)


def test_backoff_schedule_grows_and_jitter_spreads_retries() -> None:
    schedule = [backoff(n, 1.0, 1000.0, 0.0) for n in range(1, 8)]
    assert schedule == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    spread = {round(backoff(3, 1.0, 1000.0, j / 10), 3) for j in range(10)}
    assert len(spread) == 10
    with pytest.raises(ValueError, match="start at 1"):
        backoff(0, 1.0, 10.0, 0.5)


def test_after_attempt_delivered_retry_then_dead() -> None:
    ok = after_attempt(0, [], 3, NOW, 2.0, 60.0, 0.0)
    assert (ok.status, ok.attempts, ok.next_attempt_at) == (MessageStatus.DELIVERED, 1, None)
    retry = after_attempt(1, ["http://x: HTTP 503"], 3, NOW, 2.0, 60.0, 0.0)
    assert retry.status == MessageStatus.PENDING and retry.attempts == 2
    assert retry.next_attempt_at == NOW + dt.timedelta(seconds=2.0)
    assert retry.reason == "attempt 2 failed, retry in 2.0s: http://x: HTTP 503"
    dead = after_attempt(2, ["http://x: ConnectError"], 3, NOW, 2.0, 60.0, 0.0)
    assert dead.status == MessageStatus.DEAD and dead.next_attempt_at is None
    assert dead.reason.startswith("dead after 3 failed attempts (max 3)")


@pytest.mark.parametrize(("pattern", "topic", "taken"), [
    ("*", "sales.order.approved", True), ("purchasing.*", "purchasing.goods_receipt.posted", True),
    ("purchasing.*", "sales.order.approved", False), ("sales.order.approved", "sales.order.approved", True),
    ("sales.order.approved", "sales.order.approved.x", False), ("Sales.*", "sales.order.approved", False)])
def test_topic_patterns(pattern: str, topic: str, taken: bool) -> None:
    assert wants(pattern, topic) is taken


def test_integration_events_carry_topic_key_and_exact_payload() -> None:
    event = RequisitionRaised(7, "PR-2026-000007", 3, 1, Decimal("12.50"), "shortage")
    assert event.topic == "purchasing.requisition.raised"
    assert event.key == "7"
    assert event.payload() == {"purchase_requisition_id": 7, "number": "PR-2026-000007", "item_id": 3,
                               "warehouse_id": 1, "quantity": "12.50", "reason": "shortage"}
    assert GoodsReceived(5, 9).key == "5"
    assert IntegrationEvent.TOPICS["purchasing.goods_receipt.posted"] is GoodsReceived


def test_an_integration_event_must_name_a_topic_of_its_own() -> None:
    with pytest.raises(TypeError, match="names its topic"):
        @dataclass(frozen=True)
        class Nameless(IntegrationEvent):
            x: int
    with pytest.raises(TypeError, match="already GoodsReceived's"):
        @dataclass(frozen=True)
        class Twin(IntegrationEvent, topic="purchasing.goods_receipt.posted"):
            x: int


def test_a_long_loop_counts_every_attempt_but_keeps_only_the_latest() -> None:
    from erpcore.services.delivery import Attempt, DeliveryPass

    def one(i: int, status: str) -> DeliveryPass:
        return DeliveryPass([Attempt(i, f"e{i}", "t", status, 1, 1, "why")])

    total = DeliveryPass()
    assert total.reason == "nothing was due"
    for i in range(DeliveryPass.KEEP + 500):
        total = total + one(i, "delivered" if i % 10 else "pending")
    assert total.count(MessageStatus.DELIVERED) == 1350 and total.count(MessageStatus.PENDING) == 150
    assert len(total.attempts) == DeliveryPass.KEEP and total.attempts[-1].message_id == 1499
    assert total.reason == "1500 attempt(s): 1350 delivered, 150 to retry, 0 dead"
    stopped = total + DeliveryPass([], "a stop request")
    assert stopped.reason.endswith("; stopped by a stop request")
