"""The audit trail in the database: append entries to their hash chain inside the caller's transaction, record a
denied attempt in a short transaction of its own, verify every chain, show one document's history, and move a
chain's anchor when its oldest entries leave production for the archive (or come back).

Appending locks the chain's head row (`audit_chain`) until the transaction ends: entries on one chain are
numbered and linked in commit order, while writers on other chains (`erpcore.domain.audit.CHAINS` of them,
chosen by what the entry is about) do not wait for each other.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, insert, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from erpcore.domain.audit import (
    GENESIS,
    Entry,
    Link,
    Verdict,
    chain_of,
    link,
    moment,
    unsigned,
    verify,
    verify_archived,
)
from erpcore.models import AuditChain, AuditEvent
from erpcore.services.sql import Query

log = logging.getLogger("erpcore.audit")

_COLUMNS = ("chain", "seq", "actor", "role", "action", "outcome", "entity", "entity_id", "ref", "before", "after",
            "prev_hash", "row_hash")


# PostgreSQL: lock the chain head, link the entry and insert it in one round trip. The head row keeps the hash
# it had before (`prev_hash`) so that RETURNING gives both; sha256 here is `domain.audit.chain_hash`.
APPEND_PG = Query(text("""
WITH head AS (
    UPDATE audit_chain SET seq = seq + 1, prev_hash = head_hash,
        head_hash = encode(sha256(convert_to(head_hash || E'\\n' || (seq + 1)::text || E'\\n' || CAST(:body AS text),
                                             'UTF8')), 'hex')
    WHERE chain = :chain
    RETURNING seq, prev_hash, head_hash)
INSERT INTO audit_event (chain, seq, actor, role, action, outcome, entity, entity_id, ref, before, after,
                         prev_hash, row_hash, created_at)
SELECT CAST(:chain AS integer), seq, CAST(:actor AS varchar), CAST(:role AS varchar), CAST(:action AS varchar),
       CAST(:outcome AS varchar), CAST(:entity AS varchar), CAST(:entity_id AS bigint), CAST(:ref AS varchar),
       CAST(:before AS text), CAST(:after AS text), prev_hash, head_hash, CAST(:at AS timestamptz)
FROM head
RETURNING seq"""))
TAKE = (update(AuditChain).where(AuditChain.chain == bindparam("c")).values(seq=AuditChain.seq + bindparam("n"))
        .returning(AuditChain.seq, AuditChain.head_hash))


def append(conn: Connection, actor: str, role: str, entries: Sequence[Entry], at: dt.datetime | None = None) -> int:
    """Append `entries` to one chain in `conn`'s open transaction (chosen by the first entry); returns the chain."""
    if not entries:
        return -1
    first = entries[0]
    chain = chain_of(first.entity, first.ref, first.entity_id)
    when = at or dt.datetime.now(dt.UTC)
    stamp = moment(when)
    if conn.dialect.name == "postgresql":
        for entry in entries:  # PostgreSQL numbers, links and hashes it
            made = unsigned(chain, stamp, actor, str(role), entry)
            params = {c: getattr(made, c) for c in _COLUMNS[2:11]} | {"chain": chain, "body": made.body(), "at": when}
            if APPEND_PG.scalar(conn, params) is None:  # a chain beyond those the migration made
                conn.execute(insert(AuditChain).values(chain=chain, seq=0, head_hash=GENESIS, prev_hash=GENESIS))
                APPEND_PG.scalar(conn, params)
        return chain
    seq, prev = _take(conn, chain, len(entries))
    rows, before = [], prev
    for n, entry in enumerate(entries, seq - len(entries) + 1):
        made = link(prev, chain, n, stamp, actor, str(role), entry)
        rows.append({c: getattr(made, c) for c in _COLUMNS} | {"created_at": when})
        before, prev = prev, made.row_hash
    conn.execute(insert(AuditEvent), rows)
    conn.execute(update(AuditChain).where(AuditChain.chain == chain).values(head_hash=prev, prev_hash=before))
    return chain


def _take(conn: Connection, chain: int, count: int) -> tuple[int, str]:
    """Lock the chain's head, reserving `count` entries; returns (its new last seq, the hash to link onto)."""
    row = conn.execute(TAKE, {"c": chain, "n": count}).one_or_none()
    if row is None:  # a chain beyond those the migration made
        conn.execute(insert(AuditChain).values(chain=chain, seq=0, head_hash=GENESIS, prev_hash=GENESIS))
        row = conn.execute(TAKE, {"c": chain, "n": count}).one()
    return int(row.seq), str(row.head_hash)


def record(engine: Engine, actor: str, role: str, entries: Sequence[Entry]) -> bool:
    """Append `entries` in a short transaction of their own (a denied attempt); a failure is logged, not raised."""
    try:
        with engine.begin() as conn:
            append(conn, actor, role, entries)
    except SQLAlchemyError as exc:
        log.warning("could not record %d audit entries: %s", len(entries), type(exc).__name__)
        return False
    return True


def links(conn: Connection, batch: int = 5000) -> Iterator[Link]:
    """Every stored entry, by chain then seq, streamed (from production, or the archive's copy of the table)."""
    cols = [getattr(AuditEvent, c) for c in _COLUMNS]
    result = conn.execution_options(yield_per=batch).execute(
        select(AuditEvent.id, AuditEvent.created_at, *cols).order_by(AuditEvent.chain, AuditEvent.seq, AuditEvent.id))
    for r in result:
        yield link_of(r._mapping)


def link_of(row: Mapping[Any, Any]) -> Link:
    """A stored `audit_event` row as the link its hash covers."""
    return Link(row["chain"], row["seq"], moment(row["created_at"]), row["actor"], row["role"], row["action"],
                row["outcome"], row["entity"], row["entity_id"], row["ref"], row["before"], row["after"],
                row["prev_hash"], row["row_hash"], row["id"])


def anchors(conn: Connection, chains: Sequence[int] | None = None) -> dict[int, tuple[int, str]]:
    """chain -> (seq, hash) of its anchor: the last entry archived (0 and GENESIS: none was)."""
    stmt = select(AuditChain.chain, AuditChain.anchor_seq, AuditChain.anchor_hash)
    if chains is not None:
        stmt = stmt.where(AuditChain.chain.in_(list(chains)))
    return {r.chain: (int(r.anchor_seq), r.anchor_hash) for r in conn.execute(stmt)}


def move_anchor(conn: Connection, chain: int, was: tuple[int, str], to: tuple[int, str]) -> bool:
    """Move a chain's anchor from `was` to `to` in `conn`'s transaction (locking its head row); False when the
    anchor is not `was` any more (the caller rolls back)."""
    stmt = (update(AuditChain).where(AuditChain.chain == chain, AuditChain.anchor_seq == was[0],
                                     AuditChain.anchor_hash == was[1])
            .values(anchor_seq=to[0], anchor_hash=to[1]))
    return (conn.execute(stmt).rowcount or 0) == 1


def verify_trail(engine: Engine) -> Verdict:
    """Check every chain of the trail from its anchor: the first broken link of each, with its reason."""
    with engine.connect() as conn:
        chains = list(conn.execute(select(AuditChain)))
        heads = {r.chain: (int(r.seq), r.head_hash) for r in chains}
        return verify(links(conn), heads, {r.chain: (int(r.anchor_seq), r.anchor_hash) for r in chains})


def verify_archived_trail(archive: Connection, anchors: Mapping[int, tuple[int, str]]) -> Verdict:
    """Check the archive's copy of the trail (`archive`, a connection to where it lies): every chain from GENESIS
    to exactly its production anchor (`anchors`, as `anchors` reads them)."""
    return verify_archived(links(archive), anchors)


def history(engine: Engine, entity: str, limit: int = 1000) -> list[dict[str, Any]]:
    """The entries about one thing, oldest first: by its reference (`SO-2026-000123`), or `kind:id`."""
    kind, _, ident = entity.partition(":")
    wanted = [AuditEvent.ref == entity]
    if ident.isdigit():
        wanted.append((AuditEvent.entity == kind) & (AuditEvent.entity_id == int(ident)))
    columns = [AuditEvent.id, AuditEvent.created_at, AuditEvent.actor, AuditEvent.role, AuditEvent.action,
               AuditEvent.outcome, AuditEvent.entity, AuditEvent.entity_id, AuditEvent.ref, AuditEvent.before,
               AuditEvent.after, AuditEvent.chain, AuditEvent.seq]
    with engine.connect() as conn:
        rows = conn.execute(select(*columns).where(or_(*wanted)).order_by(AuditEvent.created_at, AuditEvent.id)
                            .limit(limit)).mappings().all()
    return [dict(r) | {"created_at": moment(r["created_at"])} for r in rows]
