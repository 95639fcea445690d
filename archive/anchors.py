"""Hash-chained families (the audit trail): per chain only a prefix leaves production, and the chain's anchor moves
with it.

An audit entry seals the one before it, so a batch may take a chain's entries only in seq order from the chain's
anchor (the last entry archived), each linked and intact, none after one that stays. The batch advances the
anchor to its last entry in the same source transaction as the delete, so `erpops audit verify` checks what stays
from there. A restore may bring back only the newest archived entries of a chain, up to its anchor and contiguous
with production, and moves the anchor back to the entry before them. `erpops archive verify` checks the archived
segment of every chain from GENESIS to exactly its production anchor: an anchor moved forward without archiving
is found there (see `erpcore.domain.audit`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, select

from archive.closure import chunks, pk_column
from archive.context import Archive
from archive.errors import VerificationFailed
from archive.store import BATCH_COLUMN
from erpcore import audit
from erpcore.domain.audit import GENESIS, Link, broken_link, continuing
from erpcore.exceptions import Conflict

Anchors = dict[int, tuple[int, str]]
KIND = "chain_order"


def _by_chain(rows: Iterable[Mapping[str, Any]]) -> dict[int, list[Link]]:
    out: dict[int, list[Link]] = defaultdict(list)
    for row in rows:
        out[int(row["chain"])].append(audit.link_of(row))
    for links in out.values():
        links.sort(key=lambda lk: lk.seq)
    return out


def out_of_line(conn: Connection, roots: list[dict[str, Any]], held: Collection[Any],
                known: Anchors | None = None) -> dict[Any, str]:
    """Candidates (`roots`, audit entries) that stay because an entry before them on their chain stays (`held`:
    ids staying for another reason) or their chain does not continue from its anchor, each with the reason (the
    caller keeps a held entry's own reason). `known` carries the anchors a dry run's earlier windows would have
    left (it is updated with what this window would move)."""
    chains = _by_chain(roots)
    start = audit.anchors(conn, sorted(chains))
    if known is not None:
        start.update({c: known[c] for c in chains if c in known})
    out: dict[Any, str] = {}
    for chain, links in sorted(chains.items()):
        anchor = start.get(chain, (0, GENESIS))
        stop = next((i for i, lk in enumerate(links) if lk.id in held), len(links))
        moving = list(continuing(anchor, links[:stop]))
        if known is not None and moving:
            known[chain] = (moving[-1].seq, moving[-1].row_hash)
        if len(moving) == len(links):
            continue
        first = links[len(moving)]
        last = (moving[-1].seq, moving[-1].row_hash) if moving else anchor
        if first.id not in held:
            out[first.id] = (f"audit chain {chain} does not verify at entry {first.seq} "
                             f"({broken_link(first, last)}): run erpops audit verify" if first.seq <= last[0] + 1
                             else f"entry {last[0] + 1} of audit chain {chain}, before it, stays in production")
        for lk in links[len(moving) + 1:]:
            out[lk.id] = f"entry {first.seq} of audit chain {chain}, before it, stays in production"
    return out


def advance(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> str:
    """Advance each chain's anchor to the last of its entries leaving in this batch (in the batch's transaction);
    raises when they do not continue the chain from its anchor, so the batch rolls back."""
    moved = 0
    for chain, links in sorted(_by_chain(rows).items()):
        was, to = (links[0].seq - 1, links[0].prev_hash), (links[-1].seq, links[-1].row_hash)
        if len(list(continuing(was, links))) != len(links) or not audit.move_anchor(conn, chain, was, to):
            raise VerificationFailed(f"audit chain {chain}: entries {links[0].seq}-{links[-1].seq} do not continue "
                                     f"the chain from its anchor; the batch is rolled back")
        moved += 1
    return f"anchors of {moved} audit chain(s) advanced" if moved else ""


def move_back(conn: Connection, rows: Iterable[Mapping[str, Any]]) -> str:
    """Move each chain's anchor back to the entry before the restored ones (in the restore's transaction); refuses
    entries that are not the newest archived ones of their chain."""
    chains = _by_chain(rows)
    current = audit.anchors(conn, sorted(chains))
    for chain, links in sorted(chains.items()):
        anchor = current.get(chain, (0, GENESIS))
        back = (links[0].seq - 1, links[0].prev_hash)
        if (links[-1].seq, links[-1].row_hash) != anchor or len(list(continuing(back, links))) != len(links):
            raise Conflict(_not_newest(chain, links[0].seq, links[-1].seq, anchor[0]))
        if not audit.move_anchor(conn, chain, anchor, back):
            raise Conflict(f"audit chain {chain}: its anchor moved during the restore; try again")
    return f"anchors of {len(chains)} audit chain(s) moved back" if chains else ""


def _not_newest(chain: int, low: int, high: int, anchor: int) -> str:
    return (f"audit chain {chain}: entries {low}-{high} cannot come back alone: only the newest archived entries "
            f"of a chain, up to its anchor (entry {anchor}) and contiguous with production, can; widen the "
            "selection (a later --to, or --from alone), restore newer batches first, or leave audit entries out "
            "(--family)")


def check_restorable(ax: Archive, selected: Mapping[tuple[str, int], list[Any]]) -> None:
    """Refuse, before anything moves, a selection whose audit entries are not, per chain, every archived entry
    from some seq up to the chain's anchor."""
    wanted = [(batch, roots) for (family, batch), roots in selected.items()
              if ax.closures[family].family.hash_chained]
    if not wanted:
        return
    root = ax.closures[next(f for f, _ in selected if ax.closures[f].family.hash_chained)].root
    table = ax.dest_tables[root]
    key = table.c[pk_column(table)]
    seqs: dict[int, list[int]] = defaultdict(list)
    with ax.dest.connect() as dconn:
        for batch_id, roots in wanted:
            for part in chunks(roots):
                stmt = select(table.c.chain, table.c.seq).where(key.in_(part), table.c[BATCH_COLUMN] == batch_id)
                for chain, seq in dconn.execute(stmt):
                    seqs[int(chain)].append(int(seq))
    with ax.source.connect() as conn:
        current = audit.anchors(conn, sorted(seqs))
    for chain, got in sorted(seqs.items()):
        anchor = current.get(chain, (0, GENESIS))[0]
        if sorted(got) != list(range(min(got), anchor + 1)):
            raise Conflict(_not_newest(chain, min(got), max(got), anchor))


def verify_archived(ax: Archive) -> tuple[str, list[str]]:
    """The archived audit entries against production's anchors: (what was checked, one line per broken chain)."""
    if not any(c.family.hash_chained for c in ax.closures.values()):
        return "", []
    with ax.source.connect() as conn:
        current = audit.anchors(conn)
    with ax.dest.connect() as dconn:
        verdict = audit.verify_archived_trail(dconn, current)
    reached = sum(1 for seq, _ in current.values() if seq)
    checked = f"{verdict.checked} archived audit entries verified from GENESIS to the anchors of {reached} chain(s)"
    return checked, [f"archived audit chain {b.chain} at entry {b.seq}: {b.reason}" for b in verdict.breaks]
