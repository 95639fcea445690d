"""The audit trail as data: what a service records, how an entry is hashed into its chain, and how a chain is
checked.

Entries live on `CHAINS` independent chains so that concurrent writers lock different chain heads; within a
chain, entry `seq` n stores the hash of entry n - 1 (`prev_hash`, `GENESIS` for the first) and its own hash,
sha256 over that previous hash and the entry's canonical JSON (every stored field, the chain and seq
included). Editing, deleting, inserting or reordering entries therefore breaks a link, and `verify` names the
first broken one per chain. (Whoever can rewrite a whole chain and its head can forge it: keep the heads
`erpops audit verify --json` prints somewhere else to catch that.)

A chain's oldest entries can leave production for the archive, as log systems truncate at a checkpoint: its
anchor (the seq and hash of the last entry that left; 0 and `GENESIS` when none did) is where verification of
what stays starts, and the archived segment verifies from `GENESIS` to exactly that anchor. An entry still in
production at or below its chain's anchor is a break (the anchor moved without archiving); an anchor moved
forward over deleted entries shows as an archive that does not reach it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import zlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

CHAINS = 64
GENESIS = "0" * 64
DONE = "done"
DENIED = "denied"


@dataclass(frozen=True)
class Entry:
    """What one write did to one thing: `before`/`after` are its changed values (None: created / deleted)."""

    action: str
    entity: str
    entity_id: int | None = None
    ref: str | None = None
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    outcome: str = DONE


@dataclass(frozen=True)
class Link:
    """An entry as stored: the fields the hash covers, in order, then its id and hash."""

    chain: int
    seq: int
    at: str
    actor: str
    role: str
    action: str
    outcome: str
    entity: str
    entity_id: int | None
    ref: str | None
    before: str | None
    after: str | None
    prev_hash: str
    row_hash: str = ""
    id: int | None = None

    def body(self) -> str:
        """The canonical JSON of every field the hash covers but the seq and the previous hash."""
        fields = [self.chain, self.at, self.actor, self.role, self.action, self.outcome, self.entity, self.entity_id,
                  self.ref, self.before, self.after]
        return json.dumps(fields, separators=(",", ":"), ensure_ascii=True)

    def digest(self) -> str:
        """sha256 of `prev_hash \\n seq \\n body` (PostgreSQL computes the same in `erpcore.audit`)."""
        return chain_hash(self.prev_hash, self.seq, self.body())


def chain_hash(prev_hash: str, seq: int, body: str) -> str:
    return hashlib.sha256(f"{prev_hash}\n{seq}\n{body}".encode()).hexdigest()


# fields encrypted at rest (erpcore.crypto) never reach the trail in clear: it records that they changed
SENSITIVE = frozenset({"salary", "bank_account", "tax_id", "payslip", "secret"})
REDACTED = "[sealed]"


def jsonable(value: Any) -> Any:
    """`value` with Decimals, dates, enums and dataclasses as JSON types (Decimals as exact strings); sensitive
    fields redacted."""
    if isinstance(value, Mapping):
        return {str(k): REDACTED if str(k) in SENSITIVE and v is not None else jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, Enum):
        return jsonable(value.value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def dumps(values: Mapping[str, Any] | None) -> str | None:
    """Canonical JSON of before/after values (sorted keys), exactly as stored and hashed."""
    if values is None:
        return None
    return json.dumps(jsonable(values), sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def moment(at: dt.datetime) -> str:
    """A timestamp as hashed: UTC, microseconds (a naive one, as SQLite returns it, is UTC)."""
    at = at.replace(tzinfo=dt.UTC) if at.tzinfo is None else at.astimezone(dt.UTC)
    return at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def chain_of(entity: str, ref: str | None, entity_id: int | None) -> int:
    """The chain an entry goes on: by what it is about, so one document's history stays in one chain."""
    return zlib.crc32(f"{entity}:{ref or entity_id}".encode()) % CHAINS


def unsigned(chain: int, at: str, actor: str, role: str, entry: Entry) -> Link:
    """`entry` as stored on `chain`, not yet numbered or linked."""
    return Link(chain, 0, at, actor, role, entry.action, entry.outcome, entry.entity, entry.entity_id, entry.ref,
                dumps(entry.before), dumps(entry.after), GENESIS)


def link(prev_hash: str, chain: int, seq: int, at: str, actor: str, role: str, entry: Entry) -> Link:
    """The stored form of `entry` as entry `seq` of `chain`, hashed onto `prev_hash`."""
    made = dataclasses.replace(unsigned(chain, at, actor, role, entry), seq=seq, prev_hash=prev_hash)
    return dataclasses.replace(made, row_hash=made.digest())


@dataclass(frozen=True)
class Break:
    """The first broken link of a chain and why."""

    chain: int
    seq: int
    id: int | None
    reason: str


@dataclass(frozen=True)
class Verdict:
    checked: int
    breaks: list[Break]
    heads: dict[int, tuple[int, str]]
    anchors: dict[int, tuple[int, str]] = field(default_factory=dict)  # chains verified from an anchor, not GENESIS

    @property
    def ok(self) -> bool:
        return not self.breaks

    @property
    def archived(self) -> int:
        """Entries before the anchors: archived, verified on the archive's side."""
        return sum(seq for seq, _ in self.anchors.values())

    @property
    def reason(self) -> str:
        start = (f", {len(self.anchors)} of them from their archive anchor ({self.archived} older entries "
                 "archived)" if self.anchors else "")
        if self.ok:
            return f"{self.checked} audit entries on {len(self.heads)} chains verified{start}, every link intact"
        first = self.breaks[0]
        where = f"chain {first.chain} entry {first.seq}" + (f" (id {first.id})" if first.id is not None else "")
        return f"the audit trail is broken at {where}: {first.reason}"


def verify(links: Iterable[Link], heads: Mapping[int, tuple[int, str]],
           anchors: Mapping[int, tuple[int, str]] | None = None) -> Verdict:
    """Check `links` (ordered by chain, then seq, then id) against the chain `heads` (chain -> (seq, hash)), each
    chain starting from its anchor (chain -> (seq, hash) of the last archived entry; GENESIS when absent)."""
    start = {c: (int(s), h) for c, (s, h) in (anchors or {}).items() if (s, h) != (0, GENESIS)}
    return _walk(links, heads, start, "the chain head records {seq} entries ending in {hash}",
                 "entries after it were deleted, or its head was edited")


def verify_archived(links: Iterable[Link], anchors: Mapping[int, tuple[int, str]]) -> Verdict:
    """Check an archived segment (ordered as for `verify`): every chain from GENESIS to exactly its anchor in
    production, so that an anchor moved forward without archiving is found."""
    return _walk(links, anchors, {}, "the production anchor is entry {seq} ({hash})",
                 "archived entries were deleted, or the anchor was moved without archiving")


def _walk(links: Iterable[Link], heads: Mapping[int, tuple[int, str]], start: dict[int, tuple[int, str]],
          head_is: str, why: str) -> Verdict:
    last: dict[int, tuple[int, str]] = {}
    broken: dict[int, Break] = {}
    checked = 0
    for entry in links:
        checked += 1
        if entry.chain in broken:
            continue
        seq, prev = last.get(entry.chain) or start.get(entry.chain, (0, GENESIS))
        reason = _below(entry, seq) if entry.chain not in last and entry.chain in start else ""
        reason = reason or _fault(entry, seq, prev)
        if reason:
            broken[entry.chain] = Break(entry.chain, entry.seq, entry.id, reason)
        last[entry.chain] = (entry.seq, entry.row_hash)
    for chain, (seq, head_hash) in sorted(heads.items()):
        found = last.get(chain) or start.get(chain, (0, GENESIS))
        if chain not in broken and found != (seq, head_hash):
            broken[chain] = Break(chain, found[0] + 1, None, head_is.format(seq=seq, hash=head_hash[:12])
                                  + f", the chain ends at entry {found[0]}: {why}")
    for chain in sorted(last.keys() - heads.keys()):
        if chain not in broken:
            broken[chain] = Break(chain, 1, None, "entries on a chain that has no head: inserted")
    return Verdict(checked, [broken[c] for c in sorted(broken)], dict(heads), start)


def _below(entry: Link, anchor_seq: int) -> str:
    if entry.seq > anchor_seq:
        return ""
    return (f"entry {entry.seq} is still in production at or below its chain's archive anchor (entry {anchor_seq}): "
            "the anchor was moved without archiving the entries before it")


def continuing(start: tuple[int, str], entries: Iterable[Link]) -> Iterator[Link]:
    """The entries (one chain's, ordered by seq) that continue it from `start` (seq, hash), each one linked and
    intact, up to the first that does not."""
    seq, prev = start
    for entry in entries:
        if _fault(entry, seq, prev):
            return
        yield entry
        seq, prev = entry.seq, entry.row_hash


def broken_link(entry: Link, after: tuple[int, str]) -> str:
    """Why `entry` does not continue a chain whose last entry is `after` (seq, hash); empty when it does."""
    return _fault(entry, *after)


def _fault(entry: Link, seq: int, prev: str) -> str:
    if entry.seq != seq + 1:
        what = "inserted or reordered" if entry.seq <= seq else "deleted"
        return f"expected entry {seq + 1} after entry {seq}, found entry {entry.seq}: an entry was {what}"
    if entry.prev_hash != prev:
        return "its previous-hash does not match the entry before it: an entry was deleted, inserted or reordered"
    if entry.digest() != entry.row_hash:
        return "its hash does not match its contents: the entry was edited"
    return ""
