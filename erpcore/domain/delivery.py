"""Webhook delivery rules, without I/O: which subscription wants a topic, the signature, the retry schedule.

A message is POSTed to every subscription whose pattern matches its topic. When all of them answer 2xx it
is `delivered`; otherwise it is retried after an exponential back-off with jitter (only to those that did
not answer 2xx yet), and after `max_attempts` failed attempts it is `dead` until someone replays it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase

SIGNATURE_HEADER = "X-Erpops-Signature"
EVENT_HEADER = "X-Erpops-Event"


class MessageStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"


def wants(pattern: str, topic: str) -> bool:
    """Whether a subscription's pattern (`*`, `purchasing.*`, an exact topic) takes `topic`."""
    return fnmatchcase(topic, pattern)


def sign(secret: str, body: bytes) -> str:
    """The signature header's value: `sha256=` and the hex HMAC-SHA256 of the exact body under `secret`."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    """What a receiver does: recompute the signature and compare in constant time."""
    return hmac.compare_digest(sign(secret, body), header)


def backoff(attempt: int, base_s: float, cap_s: float, jitter: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1, 2, ...): base x 2^(attempt-1), capped,
    then scaled into [50 %, 100 %] by `jitter` in [0, 1) ("equal jitter": spread out, never zero)."""
    if attempt < 1:
        raise ValueError(f"attempt numbers start at 1 (got {attempt})")
    ceiling = min(cap_s, base_s * 2.0 ** min(attempt - 1, 62))
    return ceiling * (0.5 + 0.5 * jitter)


@dataclass(frozen=True)
class Decision:
    """What becomes of a message after one attempt, and why."""

    status: MessageStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    reason: str


def after_attempt(attempts_before: int, failures: list[str], max_attempts: int, now: dt.datetime,
                  base_s: float, cap_s: float, jitter: float) -> Decision:
    """Decide the message's state after an attempt whose failed deliveries are `failures` (empty: all acked)."""
    attempts = attempts_before + 1
    if not failures:
        return Decision(MessageStatus.DELIVERED, attempts, None, f"acknowledged on attempt {attempts}")
    why = "; ".join(failures)
    if attempts >= max_attempts:
        return Decision(MessageStatus.DEAD, attempts, None,
                        f"dead after {attempts} failed attempts (max {max_attempts}): {why}")
    wait = backoff(attempts, base_s, cap_s, jitter)
    return Decision(MessageStatus.PENDING, attempts, now + dt.timedelta(seconds=wait),
                    f"attempt {attempts} failed, retry in {wait:.1f}s: {why}")
