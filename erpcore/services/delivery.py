"""The webhook deliverer: claims due outbox messages, POSTs each to its subscriptions, records the outcome.

At-least-once, never twice at the same time. A pass claims a batch in a short transaction (on PostgreSQL
`FOR UPDATE SKIP LOCKED`, so concurrent deliverers take disjoint batches; SQLite has one writer) by setting
a lease: `claimed_by` and `next_attempt_at` = the lease's end. It then posts outside any transaction (a slow
receiver holds no lock) and records each message's outcome in its own short transaction, only while it
still holds the lease. A deliverer killed mid-batch loses nothing: its messages are due again when the lease
ends. A receiver that answers 2xx is recorded in `outbox_delivery` and is not posted again; the others are
retried with back-off (`erpcore.domain.delivery`), and receivers deduplicate on the `Idempotency-Key`.

Each POST: the JSON envelope `{"id", "topic", "key", "created_at", "payload"}`, with headers
`Idempotency-Key` (the event id), `X-Erpops-Event` (the topic) and `X-Erpops-Signature`
(`sha256=` + hex HMAC-SHA256 of the body under the subscription's secret). Secrets are stored sealed
(`erpcore.services.outbox`) and opened with the keyring at the start of each pass, kept in memory only for it;
one that cannot be opened (its key not configured, or altered) stops the pass before it claims anything.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from sqlalchemy import Engine, Row, delete, func, insert, or_, select, update

from erpcore.alerts import ALERT_TOPIC
from erpcore.config import OutboxSettings
from erpcore.crypto import Keyring
from erpcore.domain.delivery import (
    EVENT_HEADER,
    SIGNATURE_HEADER,
    Decision,
    MessageStatus,
    after_attempt,
    sign,
    wants,
)
from erpcore.models import OutboxDelivery, OutboxMessage, OutboxSubscription
from erpcore.services.outbox import SECRET

Clock = Callable[[], dt.datetime]
LEASE_MARGIN_S = 30.0


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Attempt:
    """One message's attempt in a pass: where it stands afterwards, and why."""

    message_id: int
    event_id: str
    topic: str
    status: str
    attempts: int
    posted: int
    reason: str


@dataclass(frozen=True)
class DeliveryPass:
    """What one pass (or a loop of them) did, with a sentence saying so: counts of every attempt by outcome,
    and the latest `KEEP` attempts themselves (a loop running for days must not hold them all)."""

    attempts: list[Attempt] = field(default_factory=list)
    stopped_by: str | None = None
    totals: dict[str, int] = field(default_factory=dict)

    KEEP: ClassVar[int] = 1000

    def count(self, status: MessageStatus) -> int:
        return self.totals.get(status, 0) if self.totals else sum(1 for a in self.attempts if a.status == status)

    @property
    def reason(self) -> str:
        total = sum(self.count(s) for s in MessageStatus)
        if not total:
            why = "nothing was due"
        else:
            why = (f"{total} attempt(s): {self.count(MessageStatus.DELIVERED)} delivered, "
                   f"{self.count(MessageStatus.PENDING)} to retry, {self.count(MessageStatus.DEAD)} dead")
        return why + (f"; stopped by {self.stopped_by}" if self.stopped_by else "")

    def __add__(self, other: DeliveryPass) -> DeliveryPass:
        totals = {s.value: self.count(s) + other.count(s) for s in MessageStatus}
        return DeliveryPass([*self.attempts, *other.attempts][-self.KEEP:], other.stopped_by or self.stopped_by,
                            totals)


@dataclass(frozen=True)
class Subscription:
    id: int
    topic_pattern: str
    url: str
    secret: str = field(repr=False)  # in clear, for this pass only: never in a repr, log or result


def envelope(row: Row[Any]) -> bytes:
    """The exact bytes POSTed (and signed) for one message."""
    created = row.created_at.isoformat() if row.created_at is not None else None
    return json.dumps({"id": event_id(row), "topic": row.topic, "key": row.key, "created_at": created,
                       "payload": row.payload}, separators=(",", ":"), sort_keys=True).encode()


def event_id(row: Row[Any]) -> str:
    """The message's idempotency key (rows older than the column get a stable one from their id)."""
    return str(row.event_id or f"outbox-{row.id}")


class Deliverer:
    """Delivers due outbox messages of `engine` through `client` (an httpx.Client: real, or a mock transport),
    signing with subscription secrets opened by `keys`."""

    def __init__(self, engine: Engine, settings: OutboxSettings, client: httpx.Client, keys: Keyring,
                 clock: Clock = utcnow, jitter: Callable[[], float] = random.random) -> None:
        self.engine, self.settings, self.client, self.keys = engine, settings, client, keys
        self.clock, self.jitter = clock, jitter
        self.token = str(uuid.uuid4())

    def deliver_due(self, should_stop: Callable[[], bool] = lambda: False) -> DeliveryPass:
        """One pass: claim up to `batch_size` due messages, post them, record each; returns what happened."""
        subscriptions = self._subscriptions()
        claimed = self._claim(len(subscriptions))
        attempts: list[Attempt] = []
        for i, row in enumerate(claimed):
            if should_stop():
                self._release([r.id for r in claimed[i:]])
                return DeliveryPass(attempts, "a stop request")
            attempts.append(self._attempt(row, subscriptions))
        return DeliveryPass(attempts)

    def run(self, max_duration_s: float, should_stop: Callable[[], bool] = lambda: False,
            wait: Callable[[float], Any] = time.sleep) -> DeliveryPass:
        """Pass after pass until `max_duration_s` has gone by or a stop is requested; pauses when idle."""
        deadline = time.monotonic() + max_duration_s
        total = DeliveryPass()
        while not should_stop() and time.monotonic() < deadline:
            one = self.deliver_due(should_stop)
            total = total + one
            if not one.attempts and not should_stop():
                wait(min(self.settings.poll_interval_s, max(0.0, deadline - time.monotonic())))
        stopped = "a stop request" if should_stop() else None
        return DeliveryPass(total.attempts, total.stopped_by or stopped, total.totals)

    def _subscriptions(self) -> list[Subscription]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(OutboxSubscription.id, OutboxSubscription.topic_pattern,
                                       OutboxSubscription.url, OutboxSubscription.secret)
                                .order_by(OutboxSubscription.id)).all()
        return [Subscription(r.id, r.topic_pattern, r.url, self._secret(r.secret)) for r in rows]

    def _secret(self, stored: str) -> str:
        """The secret in clear: MissingKey or DecryptionFailed (one line, naming the field) when it cannot be."""
        secret = self.keys.open(stored, SECRET)
        assert secret is not None  # the column is NOT NULL
        return secret

    def _claim(self, subscriptions: int) -> list[Row[Any]]:
        """Lease a batch of due messages to this deliverer (disjoint from any other deliverer's batch)."""
        now = self.clock()
        s = self.settings
        lease = dt.timedelta(seconds=s.batch_size * max(1, subscriptions) * s.timeout_s + LEASE_MARGIN_S)
        with self.engine.begin() as conn:
            ids = conn.scalars(
                select(OutboxMessage.id)
                .where(OutboxMessage.status == MessageStatus.PENDING,
                       or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
                .order_by(OutboxMessage.id).limit(s.batch_size)
                .with_for_update(skip_locked=True)).all()
            if not ids:
                return []
            conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids))
                         .values(claimed_by=self.token, next_attempt_at=now + lease))
            rows: list[Row[Any]] = list(conn.execute(
                select(OutboxMessage.id, OutboxMessage.event_id, OutboxMessage.topic, OutboxMessage.key,
                       OutboxMessage.payload, OutboxMessage.created_at, OutboxMessage.attempts)
                .where(OutboxMessage.id.in_(ids)).order_by(OutboxMessage.id)))
            return rows

    def _release(self, ids: Sequence[int]) -> None:
        """Give back messages claimed but not attempted: due again at once, attempts unchanged."""
        if ids:
            with self.engine.begin() as conn:
                conn.execute(update(OutboxMessage).where(OutboxMessage.id.in_(ids),
                                                         OutboxMessage.claimed_by == self.token)
                             .values(claimed_by=None, next_attempt_at=None))

    def _attempt(self, row: Row[Any], subscriptions: list[Subscription]) -> Attempt:
        with self.engine.connect() as conn:
            done = set(conn.scalars(select(OutboxDelivery.subscription_id)
                                    .where(OutboxDelivery.message_id == row.id)).all())
        targets = [sub for sub in subscriptions if wants(sub.topic_pattern, row.topic) and sub.id not in done]
        body = envelope(row)
        acked: list[tuple[int, int]] = []
        failures: list[str] = []
        for sub in targets:
            code, problem = self._post(sub, row, body)
            if problem is None:
                acked.append((sub.id, code))
            else:
                failures.append(f"{sub.url}: {problem}")
        s = self.settings
        decision = after_attempt(row.attempts, failures, s.max_attempts, self.clock(), s.backoff_base_s,
                                 s.backoff_cap_s, self.jitter())
        if not targets:
            decision = Decision(MessageStatus.DELIVERED, row.attempts, None,
                                "no subscription wants this topic" if not done else "every subscription has it")
        kept = self._record(row, acked, decision)
        reason = decision.reason if kept else "lease lost to another deliverer: its outcome was not recorded"
        return Attempt(row.id, event_id(row), row.topic, decision.status, decision.attempts, len(acked), reason)

    def _post(self, sub: Subscription, row: Row[Any], body: bytes) -> tuple[int, str | None]:
        headers = {"Content-Type": "application/json", "Idempotency-Key": event_id(row), EVENT_HEADER: row.topic,
                   SIGNATURE_HEADER: sign(sub.secret, body), "User-Agent": "erpops-outbox"}
        try:
            response = self.client.post(sub.url, content=body, headers=headers, timeout=self.settings.timeout_s)
        except httpx.HTTPError as exc:
            return 0, f"{type(exc).__name__}: {exc}"[:300]
        if 200 <= response.status_code < 300:
            return response.status_code, None
        return response.status_code, f"HTTP {response.status_code}"

    def _record(self, row: Row[Any], acked: list[tuple[int, int]], decision: Decision) -> bool:
        """Write the attempt's outcome while this deliverer still holds the lease; False when it does not."""
        now = self.clock()
        final = decision.status != MessageStatus.PENDING
        values: dict[str, Any] = {
            "status": decision.status, "attempts": decision.attempts, "next_attempt_at": decision.next_attempt_at,
            "last_error": None if decision.status == MessageStatus.DELIVERED else decision.reason[:2000],
            "delivered_at": now if decision.status == MessageStatus.DELIVERED else None, "claimed_by": None}
        if final and row.topic != ALERT_TOPIC:  # alerts are published when the monitor takes them
            values["published_at"] = func.coalesce(OutboxMessage.published_at, now)
        with self.engine.begin() as conn:
            kept = conn.execute(update(OutboxMessage).where(OutboxMessage.id == row.id,
                                                            OutboxMessage.claimed_by == self.token)
                                .values(**values)).rowcount == 1
            if acked:  # an acknowledgement is a fact even when the lease was lost: never post it there again
                conn.execute(delete(OutboxDelivery).where(OutboxDelivery.message_id == row.id,
                                                          OutboxDelivery.subscription_id.in_([a for a, _ in acked])))
                conn.execute(insert(OutboxDelivery), [
                    {"message_id": row.id, "subscription_id": sub_id, "status_code": code, "delivered_at": now}
                    for sub_id, code in acked])
        return kept
