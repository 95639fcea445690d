"""Idempotency keys in the database: reserve, mark applied, store or release, expire and purge.

A row (key, token) goes through these states (`status_code`):

    0 IN_FLIGHT  reserved before the route runs, in its own short transaction
    1 APPLIED    the business write committed (set in its transaction); `response_body` names the document
    >= 100       the response, stored before it is sent, replayed to every retry

A response of 400 or more for a key that never reached APPLIED is not stored: nothing was written, so the
key is released and a retry runs again.

Who owns an in-flight key: on PostgreSQL the request holds a session advisory lock on the key (`owner`)
for its whole duration, so a retry that can take the lock knows the owner's session is gone (a killed
worker) and takes the key over at once; a retry that cannot is told "in flight". On SQLite, where no session
outlives its process anyway, an in-flight key older than `STALE_AFTER` is taken over. Keys live `api.idempotency_window_hours` (24 h): an older key is
reused as new, and `purge_expired` deletes expired rows in bounded batches (the API runs one batch at most
once a minute per process; `erpops` can run it to the end). Nothing here imports the web framework.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Delete, Engine, Update, delete, insert, select, tuple_, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from erpcore.api.owner import OwnerLock
from erpcore.models import IdempotencyKey
from erpcore.services.unit_of_work import UnitOfWork

IN_FLIGHT = 0
APPLIED = 1
STALE_AFTER = dt.timedelta(minutes=10)  # an in-flight key older than this is taken over (its owner died)
WINDOW = dt.timedelta(hours=24)
PURGE_BATCH = 500
log = logging.getLogger("erpcore.api")


class Outcome(StrEnum):
    RESERVED = "reserved"
    REPLAY = "replay"
    MISMATCH = "mismatch"
    IN_FLIGHT = "in_flight"
    APPLIED = "applied"


@dataclass(frozen=True)
class Written:
    """The document an applied request wrote, and the status its route answers with."""

    kind: str
    id: int
    status: int

    def dumps(self) -> str:
        return json.dumps({"document": self.kind, "id": self.id, "status": self.status})

    @classmethod
    def loads(cls, text: str) -> Written | None:
        try:
            data = json.loads(text)
            return cls(str(data["document"]), int(data["id"]), int(data["status"]))
        except (ValueError, KeyError, TypeError):
            return None


@dataclass(frozen=True)
class Reservation:
    outcome: Outcome
    status_code: int = 0
    body: str = ""
    written: Written | None = None


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def reserve(engine: Engine, key: str, token_id: int, digest: str, window: dt.timedelta = WINDOW,
            owner: OwnerLock | None = None) -> Reservation:
    """Claim `key` for this token, or report what the first request with it left behind.

    With an `owner` lock (PostgreSQL) the reservation runs on its connection and takes the lock in the same
    transaction: holding it means any earlier owner's session is gone. Without one, an in-flight key is its
    owner's for `STALE_AFTER`.
    """
    for _ in range(3):  # a row released or expired between our insert and our read: try again
        try:
            with _transaction(engine, owner) as conn:
                stmt = insert(IdempotencyKey).values(key=key, token_id=token_id, request_hash=digest,
                                                     status_code=IN_FLIGHT, response_body="", created_at=now())
                if owner is None:
                    conn.execute(stmt)
                else:
                    owner.held = bool(conn.execute(stmt.returning(owner.taking())).scalar())
            return Reservation(Outcome.RESERVED)
        except IntegrityError:
            pass
        with _transaction(engine, owner) as conn:
            found = _existing(conn, key, token_id, digest, window, owner)
        if found is not None:
            return found
    return Reservation(Outcome.IN_FLIGHT)


@contextmanager
def _transaction(engine: Engine, owner: OwnerLock | None) -> Iterator[Connection]:
    if owner is None:
        with engine.begin() as conn:
            yield conn
    else:
        with owner.conn.begin():
            yield owner.conn


def _existing(conn: Connection, key: str, token_id: int, digest: str, window: dt.timedelta,
              owner: OwnerLock | None) -> Reservation | None:
    mine = (IdempotencyKey.key == key, IdempotencyKey.token_id == token_id)
    columns: list[Any] = [IdempotencyKey.request_hash, IdempotencyKey.status_code, IdempotencyKey.response_body,
               IdempotencyKey.created_at]
    if owner is not None and not owner.held:
        columns.append(owner.taking().label("owner_gone"))  # who holds it lives: we cannot take it
    row = conn.execute(select(*columns).where(*mine)).one_or_none()
    if row is None:
        return None
    if owner is not None and not owner.held:
        owner.held = bool(row.owner_gone)
    age = now() - _aware(row.created_at)
    if age >= window:  # expired: forgotten, the key is new again
        conn.execute(delete(IdempotencyKey).where(*mine, IdempotencyKey.created_at == row.created_at))
        return None
    if row.request_hash != digest:
        return Reservation(Outcome.MISMATCH)
    if row.status_code not in (IN_FLIGHT, APPLIED):
        return Reservation(Outcome.REPLAY, row.status_code, row.response_body)
    gone = age >= STALE_AFTER if owner is None else owner.held
    if row.status_code == APPLIED:
        written = Written.loads(row.response_body)
        return Reservation(Outcome.APPLIED if written or gone else Outcome.IN_FLIGHT, written=written)
    if gone and conn.execute(update(IdempotencyKey).where(
            *mine, IdempotencyKey.status_code == IN_FLIGHT, IdempotencyKey.created_at == row.created_at,
    ).values(created_at=now())).rowcount == 1:
        return Reservation(Outcome.RESERVED)
    return Reservation(Outcome.IN_FLIGHT)


Locate = Callable[[Connection], Written | None]


@dataclass(frozen=True)
class Claim:
    """The Idempotency-Key a request holds, as the middleware reserved it; `locate` names what it wrote."""

    key: str
    token_id: int
    locate: Locate | None = None

    def mark_applied(self, uow: UnitOfWork) -> None:
        """Pre-commit step: record, in the business write's transaction, that the request was applied."""
        written = self.locate(uow.conn) if self.locate is not None else None
        uow.conn.execute(update(IdempotencyKey).where(
            IdempotencyKey.key == self.key, IdempotencyKey.token_id == self.token_id,
            IdempotencyKey.status_code == IN_FLIGHT,
        ).values(status_code=APPLIED, response_body=written.dumps() if written else ""))


def complete(engine: Engine, key: str, token_id: int, status_code: int, body: str,
             owner: OwnerLock | None = None) -> bool:
    """Store the first response, to be replayed to every retry; a refusal before the write is released instead.

    Returns whether the response was stored. The `owner` lock, if any, is given up in the same transaction.
    """
    mine = (IdempotencyKey.key == key, IdempotencyKey.token_id == token_id)
    with _transaction(engine, owner) as conn:
        if status_code >= 400 and _settled(conn, delete(IdempotencyKey).where(
                *mine, IdempotencyKey.status_code == IN_FLIGHT), owner):
            return False
        _settled(conn, update(IdempotencyKey).where(*mine).values(status_code=status_code, response_body=body),
                 owner)
    return True


def release(engine: Engine, key: str, token_id: int, owner: OwnerLock | None = None) -> None:
    """Forget an in-flight key so the client may retry after an unexpected failure (and give up `owner`)."""
    with _transaction(engine, owner) as conn:
        _settled(conn, delete(IdempotencyKey).where(IdempotencyKey.key == key, IdempotencyKey.token_id == token_id,
                                                    IdempotencyKey.status_code == IN_FLIGHT), owner)


def _settled(conn: Connection, stmt: Update | Delete, owner: OwnerLock | None) -> int:
    """Run `stmt` on the key's row, giving up the owner lock in the same statement; returns the rows changed."""
    if owner is None or not owner.held:
        return int(conn.execute(stmt).rowcount)
    unlocked = conn.execute(stmt.returning(owner.giving_up())).scalars().all()
    owner.held = not any(unlocked)
    return len(unlocked)


def purge_batch(engine: Engine, window: dt.timedelta = WINDOW, batch: int = PURGE_BATCH) -> int:
    """Delete up to `batch` keys older than `window` in one short transaction; returns how many."""
    expired = (select(IdempotencyKey.key, IdempotencyKey.token_id)
               .where(IdempotencyKey.created_at < now() - window).limit(batch)
               .with_for_update(skip_locked=True))  # two purging processes never wait on each other
    with engine.begin() as conn:
        result = conn.execute(delete(IdempotencyKey).where(
            tuple_(IdempotencyKey.key, IdempotencyKey.token_id).in_(expired)))
    return int(result.rowcount)


@dataclass(frozen=True)
class Purge:
    deleted: int
    batches: int
    finished: bool
    reason: str


def purge_expired(engine: Engine, window: dt.timedelta = WINDOW, batch: int = PURGE_BATCH,
                  max_batches: int = 10_000) -> Purge:
    """Delete every idempotency key older than `window`, `batch` rows per transaction, at most `max_batches`."""
    deleted = batches = 0
    while batches < max_batches:
        gone = purge_batch(engine, window, batch)
        batches, deleted = batches + 1, deleted + gone
        if gone < batch:
            return Purge(deleted, batches, True, f"deleted {deleted} keys older than {window} in {batches} batches")
    return Purge(deleted, batches, False, f"deleted {deleted} keys older than {window}; stopped after "
                 f"{max_batches} batches of {batch}, more may remain")


def purge_quietly(engine: Engine, window: dt.timedelta) -> None:
    """One purge batch on the request path: a failure is logged, never the request's problem."""
    try:
        gone = purge_batch(engine, window)
    except DBAPIError as exc:
        log.warning("purging expired idempotency keys failed: %s", type(exc).__name__)
        return
    if gone:
        log.info("purged %d idempotency keys older than %s", gone, window)
