"""Webhook subscriptions to outbox topics, and which subscription got which message."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk


class OutboxSubscription(Timestamped, Base):
    """A webhook: every outbox message whose topic matches `topic_pattern` (fnmatch, `*` for all) is POSTed
    to `url`, signed with HMAC-SHA256 under `secret`, which is stored sealed (`erpcore.crypto`, context
    `outbox_subscription.secret`) when a key is configured."""

    __tablename__ = "outbox_subscription"

    id: Mapped[intpk]
    topic_pattern: Mapped[str] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(400))  # up to 200 characters, sealed: prefix, key id, base64


class OutboxDelivery(Base):
    """One message acknowledged (2xx) by one subscription: a retry posts only to those that have not."""

    __tablename__ = "outbox_delivery"

    message_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True)
    subscription_id: Mapped[int] = mapped_column(BigId, ForeignKey("outbox_subscription.id", ondelete="CASCADE"),
                                                 primary_key=True)
    status_code: Mapped[int] = mapped_column(Integer)
    delivered_at: Mapped[dt.datetime]
