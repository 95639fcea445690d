"""The integration outbox on both engines: events written with the change (or not at all), delivered signed
to subscribed webhooks, retried, dead-lettered, replayed; concurrent deliverers never send one message twice.
Deliveries run with an encryption key configured (`sealed`): every secret is stored sealed and opened to sign."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import func, select, update

from erpcore.alerts import raise_alert
from erpcore.config import OutboxSettings
from erpcore.crypto import Keyring, generate_key, parse_keys
from erpcore.domain.delivery import MessageStatus
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import OutboxMessage, PurchaseOrder
from erpcore.services import outbox, purchasing, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.delivery import Deliverer
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from erpcore.services.unit_of_work import UnitOfWork
from tests.factories import make_world, stock_up
from tests.webhooks import WebhookReceiver

SECRET = "test-secret-0123456789"
FAST = OutboxSettings(max_attempts=3, backoff_base_s=0.05, backoff_cap_s=0.2, timeout_s=2.0, poll_interval_s=0.05)


@pytest.fixture
def sealed(erp: Erp) -> Keyring:
    """The ERP with a key configured: subscription secrets are sealed on the way in."""
    erp._keyring = Keyring(parse_keys(generate_key("k1"), "test"), "k1")
    return erp._keyring


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as r:
        yield r


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client() as c:
        yield c


def _messages(erp: Erp, topic: str | None = None) -> list[OutboxMessage]:
    with erp.session_factory() as s:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        return list(s.scalars(stmt if topic is None else stmt.where(OutboxMessage.topic == topic)))


def test_business_events_land_in_the_outbox_with_their_change(erp: Erp) -> None:
    w = make_world(erp)
    po = stock_up(w, "3")  # approved, received
    with erp.session_factory() as s:
        po_number = s.scalar(select(PurchaseOrder.number).where(PurchaseOrder.id == po))
    purchasing.register_supplier_invoice(erp.uow(), po, "INV-A", [InvoiceLineInput(1, Decimal(3), Decimal("6.00"))])
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(5))]).id
    sales.approve_sales_order(erp.uow(), so)  # 3 reserved, 2 short: a requisition
    topics = Counter(m.topic for m in _messages(erp))
    assert topics == {"purchasing.order.approved": 1, "purchasing.goods_receipt.posted": 1,
                      "purchasing.supplier_invoice.matched": 1, "sales.order.approved": 1,
                      "purchasing.requisition.raised": 1, "sales.shipping_instruction.created": 1}
    approved = _messages(erp, "purchasing.order.approved")[0]
    assert approved.key == str(po) and approved.status == "pending" and approved.attempts == 0
    assert approved.payload["number"] == po_number and Decimal(str(approved.payload["total_amount"])) == Decimal("21.60")
    requisition = _messages(erp, "purchasing.requisition.raised")[0]
    assert requisition.payload["reason"] == "shortage" and Decimal(str(requisition.payload["quantity"])) == 2
    assert len({m.event_id for m in _messages(erp)}) == sum(topics.values())  # one id per event


def test_a_held_invoice_is_an_event_too(erp: Erp) -> None:
    w = make_world(erp)
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(4))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    purchasing.register_supplier_invoice(erp.uow(), po, "INV-H", [InvoiceLineInput(1, Decimal(4), Decimal("6.00"))])
    held = _messages(erp, "purchasing.supplier_invoice.held")
    assert len(held) == 1 and held[0].key == str(held[0].payload["supplier_invoice_id"])
    assert "receiv" in str(held[0].payload["reason"])
    purchasing.receive_goods(erp.uow(), po)  # the receipt re-matches it in the same transaction
    assert len(_messages(erp, "purchasing.supplier_invoice.matched")) == 1


def test_a_write_that_fails_leaves_no_outbox_row(erp: Erp) -> None:
    w = make_world(erp)
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(2))]).id
    seen: list[int] = []

    def fail_after_the_events(uow: UnitOfWork) -> None:  # runs after the bus wrote the outbox row
        seen.append(int(uow.conn.scalar(select(func.count()).select_from(OutboxMessage)) or 0))
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        purchasing.approve_purchase_order(erp.uow(steps=[fail_after_the_events]), po)
    assert seen == [1]  # the row was there inside the transaction ...
    assert _messages(erp) == []  # ... and went with it
    with erp.session_factory() as s:
        assert s.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == po)) == "draft"


def test_delivery_posts_signed_idempotent_envelopes_once(erp: Erp, sealed: Keyring, receiver: WebhookReceiver,
                                                         client: httpx.Client) -> None:
    sub = outbox.subscribe(erp.engine, erp.keyring, "purchasing.*", receiver.url, SECRET)
    assert sub["secret"] == SECRET
    other = WebhookReceiver(SECRET).start()
    try:
        outbox.subscribe(erp.engine, erp.keyring, "sales.*", other.url, SECRET)
        w = make_world(erp)
        stock_up(w, "2")
        raise_alert(erp.engine, "SomethingOdd", "not for these webhooks")
        result = Deliverer(erp.engine, FAST, client, erp.keyring).deliver_due()
        assert result.count(MessageStatus.DELIVERED) == 3 and "3 delivered" in result.reason
        assert sorted(r.topic for r in receiver.received) == ["purchasing.goods_receipt.posted",
                                                              "purchasing.order.approved"]
        assert other.received == []
    finally:
        other.stop()
    assert all(r.signed for r in receiver.received)
    messages = {m.event_id: m for m in _messages(erp)}
    for r in receiver.received:
        assert r.body["id"] == r.key and r.body["topic"] == messages[r.key].topic
        assert r.body["payload"] == messages[r.key].payload
    assert {m.status for m in messages.values()} == {"delivered"}
    alert = _messages(erp, "alert")[0]
    assert alert.published_at is None  # the monitor still takes it
    assert all(m.published_at is not None for m in messages.values() if m.topic != "alert")
    again = Deliverer(erp.engine, FAST, client, erp.keyring).deliver_due()
    assert again.attempts == [] and again.reason == "nothing was due" and len(receiver.received) == 2


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def test_failures_back_off_then_go_dead_and_replay_revives(erp: Erp, sealed: Keyring, receiver: WebhookReceiver,
                                                           client: httpx.Client) -> None:
    outbox.subscribe(erp.engine, erp.keyring, "*", receiver.url, SECRET)
    w = make_world(erp)
    purchasing.approve_purchase_order(erp.uow(), purchasing.create_purchase_order(
        erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(1))]).id)
    clock = Clock()
    deliverer = Deliverer(erp.engine, FAST, client, erp.keyring, clock=clock, jitter=lambda: 0.0)
    receiver.fail_with = 503
    first = deliverer.deliver_due()
    assert [a.status for a in first.attempts] == ["pending"] and "HTTP 503" in first.attempts[0].reason
    assert deliverer.deliver_due().attempts == []  # not due yet: backing off (0.025 s at jitter 0)
    clock.advance(0.03)
    assert [a.attempts for a in deliverer.deliver_due().attempts] == [2]
    clock.advance(0.06)
    dead = deliverer.deliver_due().attempts[0]
    assert dead.status == "dead" and dead.reason.startswith("dead after 3 failed attempts")
    state = outbox.status(erp.engine)
    assert state["counts"] == {"pending": 0, "delivered": 0, "dead": 1}
    assert state["dead"][0]["id"] == dead.message_id and "HTTP 503" in state["dead"][0]["last_error"]
    receiver.fail_with = None
    replayed = outbox.replay(erp.engine, dead.message_id)
    assert replayed["was"] == "dead" and replayed["status"] == "pending"
    assert [a.status for a in deliverer.deliver_due().attempts] == ["delivered"]
    assert receiver.keys() == [dead.event_id]
    with pytest.raises(NotFound):
        outbox.replay(erp.engine, 999999)


def test_a_retry_posts_only_to_the_subscriptions_that_did_not_acknowledge(
        erp: Erp, sealed: Keyring, receiver: WebhookReceiver, client: httpx.Client) -> None:
    down = WebhookReceiver(SECRET)  # never started: connection refused
    outbox.subscribe(erp.engine, erp.keyring, "*", receiver.url, SECRET)
    outbox.subscribe(erp.engine, erp.keyring, "*", down.url, SECRET)
    w = make_world(erp)
    purchasing.approve_purchase_order(erp.uow(), purchasing.create_purchase_order(
        erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(1))]).id)
    clock = Clock()
    deliverer = Deliverer(erp.engine, FAST, client, erp.keyring, clock=clock, jitter=lambda: 0.0)
    attempt = deliverer.deliver_due().attempts[0]
    assert attempt.status == "pending" and attempt.posted == 1 and "ConnectError" in attempt.reason
    down.start()
    try:
        clock.advance(1)
        assert deliverer.deliver_due().attempts[0].status == "delivered"
        assert len(receiver.received) == 1 and len(down.received) == 1
    finally:
        down.stop()


def test_subscription_input_is_checked_and_secrets_never_listed(erp: Erp) -> None:
    for pattern, url, secret in [("", "http://h/x", None), ("*", "ftp://h/x", None), ("*", "not a url", None),
                                 ("*", "http://h/x", "short")]:
        with pytest.raises(ValidationFailed):
            outbox.subscribe(erp.engine, erp.keyring, pattern, url, secret)
    made = outbox.subscribe(erp.engine, erp.keyring, "sales.*", "https://crm.example.com/hook")
    assert len(made["secret"]) >= 32
    assert [s["secret"] for s in outbox.subscriptions(erp.engine)] == ["***"]
    assert outbox.unsubscribe(erp.engine, made["id"])["url"] == "https://crm.example.com/hook"
    assert outbox.subscriptions(erp.engine) == []
    with pytest.raises(NotFound):
        outbox.unsubscribe(erp.engine, made["id"])


def test_concurrent_deliverers_never_send_a_message_twice(erp: Erp, sealed: Keyring, receiver: WebhookReceiver) -> None:
    outbox.subscribe(erp.engine, erp.keyring, "*", receiver.url, SECRET)
    w = make_world(erp)
    for _ in range(6):
        purchasing.approve_purchase_order(erp.uow(), purchasing.create_purchase_order(
            erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(1))]).id)
    with erp.engine.begin() as conn:  # make the batch bigger than one deliverer's share
        conn.execute(update(OutboxMessage).values(next_attempt_at=None))
    small = FAST.model_copy(update={"batch_size": 2})
    errors: list[BaseException] = []

    def work() -> None:
        try:
            with httpx.Client() as c:
                Deliverer(erp.engine, small, c, erp.keyring).run(3.0, lambda: len(set(receiver.keys())) >= 6)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    keys = receiver.keys()
    assert len(keys) == 6 and len(set(keys)) == 6  # no duplicates, not even ones the receiver would drop
    assert {m.status for m in _messages(erp)} == {"delivered"}
