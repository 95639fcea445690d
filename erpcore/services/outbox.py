"""Outbox administration: webhook subscriptions, the backlog at a glance, replaying a message.

Reads are SQL returning rows; each write is one short transaction, on the audit trail. A subscription's signing
secret is sealed with the keyring before it is stored (plain only while no key is configured; `erpops keys
rotate` seals it later) and shown once, by `subscribe`; every other read masks it. Delivery itself is
`erpcore.services.delivery`, which opens it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, delete, func, insert, select, update

from erpcore import audit
from erpcore.access import SYSTEM, Actor, require
from erpcore.crypto import Keyring
from erpcore.domain.audit import Entry
from erpcore.domain.delivery import MessageStatus
from erpcore.exceptions import NotFound, ValidationFailed
from erpcore.models import OutboxDelivery, OutboxMessage, OutboxSubscription

MASK = "***"
SECRET = "outbox_subscription.secret"  # the sealed field's name: its associated data, and `erpops keys`' label
PERMISSION = "admin.outbox"


def subscribe(engine: Engine, keys: Keyring, topic_pattern: str, url: str, secret: str | None = None,
              actor: Actor = SYSTEM) -> dict[str, Any]:
    """Add a webhook for topics matching `topic_pattern` as `actor` (an admin); returns it with its secret in
    clear (shown this once; stored sealed when a key is configured)."""
    require(actor, PERMISSION)
    pattern = topic_pattern.strip()
    if not pattern or len(pattern) > 120:
        raise ValidationFailed("topic pattern must be 1-120 characters, e.g. 'purchasing.*' or '*'")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 500:
        raise ValidationFailed(f"webhook URL must be http(s)://host/... up to 500 characters (got {url!r})")
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < 16 or len(secret) > 200:
        raise ValidationFailed("secret must be 16-200 characters (or leave it out to get a random one)")
    with engine.begin() as conn:
        row = conn.execute(insert(OutboxSubscription)
                           .values(topic_pattern=pattern, url=url, secret=keys.seal(secret, SECRET))
                           .returning(*OutboxSubscription.__table__.columns)).mappings().one()
        audit.append(conn, actor.name, actor.role, [Entry(PERMISSION, "outbox_subscription", row["id"], None, None,
                                                          {"topic_pattern": pattern, "url": url, "secret": secret})])
    return {**row, "secret": secret}


def unsubscribe(engine: Engine, subscription_id: int, actor: Actor = SYSTEM) -> dict[str, Any]:
    """Remove a webhook (and its acknowledgements) as `actor` (an admin); returns it, secret masked."""
    require(actor, PERMISSION)
    with engine.begin() as conn:
        row = conn.execute(select(OutboxSubscription).where(OutboxSubscription.id == subscription_id)).mappings().first()
        if row is None:
            raise NotFound(f"subscription {subscription_id} does not exist (`erpops outbox subscriptions` lists them)")
        conn.execute(delete(OutboxDelivery).where(OutboxDelivery.subscription_id == subscription_id))
        conn.execute(delete(OutboxSubscription).where(OutboxSubscription.id == subscription_id))
        audit.append(conn, actor.name, actor.role, [Entry(PERMISSION, "outbox_subscription", subscription_id, None,
                                                          {"topic_pattern": row["topic_pattern"], "url": row["url"]},
                                                          None)])
    return {**row, "secret": MASK}


def subscriptions(engine: Engine) -> list[dict[str, Any]]:
    """Every webhook, oldest first, secrets masked."""
    with engine.connect() as conn:
        rows = conn.execute(select(OutboxSubscription).order_by(OutboxSubscription.id)).mappings().all()
    return [{**r, "secret": MASK} for r in rows]


def status(engine: Engine, now: dt.datetime | None = None, dead_limit: int = 20) -> dict[str, Any]:
    """Messages by status, the oldest pending one's age, and the latest dead ones with their last error."""
    now = now or dt.datetime.now(dt.UTC)
    with engine.connect() as conn:
        counts = dict(conn.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
        oldest = conn.scalar(select(func.min(OutboxMessage.created_at))
                             .where(OutboxMessage.status == MessageStatus.PENDING))
        dead = conn.execute(select(OutboxMessage.id, OutboxMessage.event_id, OutboxMessage.topic,
                                   OutboxMessage.key, OutboxMessage.attempts, OutboxMessage.last_error,
                                   OutboxMessage.created_at)
                            .where(OutboxMessage.status == MessageStatus.DEAD)
                            .order_by(OutboxMessage.id.desc()).limit(dead_limit)).mappings().all()
    if oldest is not None and oldest.tzinfo is None:  # SQLite hands back naive UTC
        oldest = oldest.replace(tzinfo=dt.UTC)
    return {
        "counts": {s.value: int(counts.get(s.value, 0)) for s in MessageStatus},
        "oldest_pending_age_s": None if oldest is None else round((now - oldest).total_seconds(), 3),
        "dead": [dict(r) for r in dead],
    }


def replay(engine: Engine, message_id: int) -> dict[str, Any]:
    """Make a message due again for every subscription (same event id: receivers deduplicate on it)."""
    with engine.begin() as conn:
        found = conn.execute(select(OutboxMessage.id, OutboxMessage.status)
                             .where(OutboxMessage.id == message_id)).first()
        if found is None:
            raise NotFound(f"outbox message {message_id} does not exist (`erpops outbox status` lists dead ones)")
        conn.execute(delete(OutboxDelivery).where(OutboxDelivery.message_id == message_id))
        conn.execute(update(OutboxMessage).where(OutboxMessage.id == message_id).values(
            status=MessageStatus.PENDING, attempts=0, next_attempt_at=None, last_error=None, delivered_at=None,
            claimed_by=None))
        row = conn.execute(select(OutboxMessage.id, OutboxMessage.event_id, OutboxMessage.topic, OutboxMessage.key,
                                  OutboxMessage.status).where(OutboxMessage.id == message_id)).mappings().one()
    return {**row, "was": found.status}
