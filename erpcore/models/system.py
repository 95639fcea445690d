"""Plumbing tables: document numbering, API tokens, idempotency keys, the outbox, the audit trail."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk


class DocumentSequence(Base):
    """Next gap-free number per document type and year; its row is locked by the posting transaction."""

    __tablename__ = "document_sequence"

    doc_type: Mapped[str] = mapped_column(String(24), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer)


class ApiToken(Timestamped, Base):
    __tablename__ = "api_token"

    id: Mapped[intpk]
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex, never the token
    role: Mapped[str] = mapped_column(String(24))
    revoked_at: Mapped[dt.datetime | None]
    expires_at: Mapped[dt.datetime | None]


class IdempotencyKey(Timestamped, Base):
    """The first response to a POST with an Idempotency-Key, replayed on retries; purged after the window.

    While applied but not answered (status 1), `response_body` holds the document the request wrote as JSON.
    """

    __tablename__ = "idempotency_key"
    __table_args__ = (Index("ix_idempotency_key_created_at", "created_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    token_id: Mapped[int] = mapped_column(BigId, ForeignKey("api_token.id"), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[str] = mapped_column(Text)


class OutboxMessage(Timestamped, Base):
    """Events for the world outside the process, written in the business transaction.

    `published_at` is the monitor's mark on the `alert` rows it took; `status`, `attempts`,
    `next_attempt_at`, `last_error`, `delivered_at` and `claimed_by` are the webhook deliverer's (`erpcore.services.delivery`).
    `event_id` travels as the `Idempotency-Key` header: receivers deduplicate on it.
    """

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[intpk]
    topic: Mapped[str] = mapped_column(String(80), index=True)
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime | None]
    key: Mapped[str | None] = mapped_column(String(200))
    event_id: Mapped[str | None] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    status: Mapped[str] = mapped_column(String(16), default="pending", server_default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[dt.datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[dt.datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(36))  # the deliverer holding its lease (next_attempt_at)


class AuditEvent(Timestamped, Base):
    """Who did what to which thing, when, as which role, with the values before and after; hash-chained per
    chain (`erpcore.domain.audit`). `created_at` is part of the hash. Rows are only ever appended."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ux_audit_event_chain_seq", "chain", "seq", unique=True),
                      Index("ix_audit_event_ref", "ref"), Index("ix_audit_event_entity", "entity", "entity_id"))

    id: Mapped[intpk]
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(80))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(BigId)
    prev_hash: Mapped[str] = mapped_column(String(64))
    row_hash: Mapped[str] = mapped_column(String(64))
    chain: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    seq: Mapped[int] = mapped_column(BigId, default=0, server_default="0")
    role: Mapped[str] = mapped_column(String(24), default="", server_default="")
    outcome: Mapped[str] = mapped_column(String(12), default="done", server_default="done")
    ref: Mapped[str | None] = mapped_column(String(80))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)
