"""Webhook signing secrets at rest, on both engines: sealed on the way in when a key is configured, opened only to
sign a delivery, sealed later and rotated by `erpops keys`, and never in clear in any table or on the audit trail."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import Engine, inspect, select, text

from erpcore.access import AccessRole, Actor
from erpcore.check import run_check
from erpcore.config import OutboxSettings
from erpcore.crypto import DecryptionFailed, Keyring, MissingKey, generate_key, parse_keys
from erpcore.exceptions import Forbidden
from erpcore.models import AuditEvent, OutboxMessage, OutboxSubscription
from erpcore.services import keys, outbox, purchasing
from erpcore.services.bootstrap import Erp
from erpcore.services.delivery import Deliverer
from erpcore.services.purchasing import PurchaseLineInput
from tests.factories import make_world
from tests.webhooks import WebhookReceiver

SECRET = "hmac-secret-that-must-never-leak-0123"
FAST = OutboxSettings(max_attempts=3, backoff_base_s=0.05, backoff_cap_s=0.2, timeout_s=2.0, poll_interval_s=0.05)
K1 = Keyring(parse_keys(generate_key("k1"), "test"), "k1")
K2 = Keyring({**K1.keys, **parse_keys(generate_key("k2"), "test")}, "k2")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver(SECRET) as r:
        yield r


def _stored(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(OutboxSubscription.secret).order_by(OutboxSubscription.id)))


def _approve_one(erp: Erp) -> None:
    w = make_world(erp)
    purchasing.approve_purchase_order(erp.uow(), purchasing.create_purchase_order(
        erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, Decimal(1))]).id)


def _tables_holding(engine: Engine, needle: str) -> list[str]:
    """Every table with a row whose text holds `needle` anywhere (a dump of the database, grepped)."""
    found = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            if any(needle in str(tuple(row)) for row in conn.execute(text(f'SELECT * FROM "{table}"'))):
                found.append(table)
    return found


def _deliver(erp: Erp, keyring: Keyring) -> list[str]:
    with httpx.Client() as client:
        return [a.status for a in Deliverer(erp.engine, FAST, client, keyring).deliver_due().attempts]


def test_a_secret_is_sealed_at_rest_shown_once_and_signs_deliveries(erp: Erp, receiver: WebhookReceiver) -> None:
    made = outbox.subscribe(erp.engine, K1, "purchasing.*", receiver.url, SECRET)
    assert made["secret"] == SECRET  # shown this once, to hand to the receiver
    generated = outbox.subscribe(erp.engine, K1, "sales.*", "https://crm.example.com/hook")
    stored = _stored(erp.engine)
    assert all(s.startswith("v1:k1:") for s in stored) and SECRET not in stored[0]
    assert generated["secret"] not in stored[1] and len(stored[1]) <= 400
    assert [s["secret"] for s in outbox.subscriptions(erp.engine)] == ["***", "***"]
    assert outbox.unsubscribe(erp.engine, generated["id"])["secret"] == "***"
    _approve_one(erp)
    assert _deliver(erp, K1) == ["delivered"]
    assert [(r.topic, r.signed) for r in receiver.received] == [("purchasing.order.approved", True)]
    assert _tables_holding(erp.engine, SECRET) == [] and _tables_holding(erp.engine, generated["secret"]) == []
    with erp.engine.connect() as conn:
        trail = conn.execute(select(AuditEvent.action, AuditEvent.entity_id, AuditEvent.before, AuditEvent.after)
                             .where(AuditEvent.entity == "outbox_subscription").order_by(AuditEvent.id)).all()
    assert [(a, i) for a, i, _, _ in trail] == [("admin.outbox", made["id"]), ("admin.outbox", generated["id"]),
                                                ("admin.outbox", generated["id"])]
    assert '"secret":"[sealed]"' in trail[0].after and trail[2].after is None and "crm" in trail[2].before
    assert run_check(erp.engine, only=["audit_trail_seals_sensitive_fields"]).ok


def test_a_longest_secret_fits_sealed_with_a_longest_key_id(erp: Erp) -> None:
    long_kid = Keyring(parse_keys(generate_key("k" * 32), "test"), "k" * 32)
    outbox.subscribe(erp.engine, long_kid, "*", "https://wms.example.com/hook", "s" * 200)
    assert len(_stored(erp.engine)[0]) <= 400  # fits the widened column (PostgreSQL enforces it)
    assert long_kid.open(_stored(erp.engine)[0], outbox.SECRET) == "s" * 200


def test_rotation_seals_a_plain_secret_then_moves_it_to_the_active_key(erp: Erp, receiver: WebhookReceiver) -> None:
    outbox.subscribe(erp.engine, Keyring(), "*", receiver.url, SECRET)  # no key configured: stored plain
    assert _stored(erp.engine) == [SECRET]
    assert {f.field: f.counts for f in keys.status(erp.engine, K1).fields}[outbox.SECRET] == {"plain": 1}
    first = keys.rotate(erp.engine, K1)
    assert first.finished and first.rewritten == {outbox.SECRET: 1}
    assert _stored(erp.engine)[0].startswith("v1:k1:")
    second = keys.rotate(erp.engine, K2)
    assert second.rewritten == {outbox.SECRET: 1} and _stored(erp.engine)[0].startswith("v1:k2:")
    assert {f.field: f.counts for f in keys.status(erp.engine, K2).fields}[outbox.SECRET] == {"k2": 1}
    _approve_one(erp)
    assert _deliver(erp, K2) == ["delivered"] and all(r.signed for r in receiver.received)
    assert _tables_holding(erp.engine, SECRET) == []


def test_a_secret_that_cannot_be_opened_stops_the_pass_before_it_claims(erp: Erp) -> None:
    outbox.subscribe(erp.engine, K2, "*", "http://127.0.0.1:9/hook", SECRET)
    _approve_one(erp)
    with pytest.raises(MissingKey, match="outbox_subscription.secret holds values encrypted with key 'k2'"):
        _deliver(erp, K1)
    sealed = _stored(erp.engine)[0]
    forged = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with erp.engine.begin() as conn:
        conn.execute(text("UPDATE outbox_subscription SET secret = :v"), {"v": forged})
    with pytest.raises(DecryptionFailed, match="outbox_subscription.secret: a value sealed with key 'k2'"):
        _deliver(erp, K2)
    with erp.engine.connect() as conn:  # nothing was claimed or counted as an attempt
        message = conn.execute(select(OutboxMessage.status, OutboxMessage.attempts, OutboxMessage.claimed_by)).one()
    assert tuple(message) == ("pending", 0, None)


def test_only_an_admin_subscribes_and_the_actor_is_on_the_trail(erp: Erp) -> None:
    with pytest.raises(Forbidden, match="needs admin.outbox"):
        outbox.subscribe(erp.engine, K1, "*", "https://wms.example.com/hook", actor=Actor("cli:bob", AccessRole.BUYER))
    outbox.subscribe(erp.engine, K1, "*", "https://wms.example.com/hook", actor=Actor("cli:ann", AccessRole.ADMIN))
    with erp.engine.connect() as conn:
        assert conn.execute(select(AuditEvent.actor).where(AuditEvent.entity == "outbox_subscription")).scalars().all() \
            == ["cli:ann"]
