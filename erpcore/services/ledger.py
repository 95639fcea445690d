"""Writing the two ledgers: journal entries (queued, numbered, flushed at commit) and stock moves
with the stock balances they change. Set-based: one statement per table, whatever the line count.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, insert, select

from erpcore.domain.postings import PostingLine, is_balanced, reversal
from erpcore.domain.stock import Balance
from erpcore.exceptions import NotFound
from erpcore.models import Item, JournalEntry, JournalLine, StockBalance, StockMove
from erpcore.services import numbering
from erpcore.services.sql import (
    Query,
    batch_insert,
    batch_update,
    insert_ignore,
    pairs_in,
    pairs_params,
)
from erpcore.services.unit_of_work import PendingEntry, UnitOfWork

Key = tuple[int, int]  # (item_id, warehouse_id)


def post(
    uow: UnitOfWork, entry_date: dt.date, source_type: str, source_id: int, event: str,
    description: str, lines: list[PostingLine], reversal_of_id: int | None = None,
) -> None:
    """Queue a balanced journal entry; it is numbered and written when the unit of work commits."""
    if not is_balanced(lines):
        raise ValueError(f"unbalanced posting for {source_type} {source_id} {event}: {lines}")
    uow.post(PendingEntry(entry_date, source_type, source_id, event, description, lines, reversal_of_id))


def post_reversal(uow: UnitOfWork, entry_date: dt.date, source_type: str, source_id: int,
                  original_event: str, event: str = "cancel") -> None:
    """Queue the entry that nets the original posting of a document to zero."""
    session = uow.session
    original = session.execute(
        select(JournalEntry.id, JournalEntry.description).where(
            JournalEntry.source_type == source_type, JournalEntry.source_id == source_id,
            JournalEntry.event == original_event,
        )
    ).one_or_none()
    if original is None:
        raise NotFound(f"{source_type} {source_id} has no '{original_event}' journal entry to reverse")
    roles = {v: k for k, v in uow.erp.account_ids(session).items()}
    rows = session.execute(
        select(JournalLine.account_id, JournalLine.debit, JournalLine.credit, JournalLine.customer_id,
               JournalLine.supplier_id).where(JournalLine.journal_entry_id == original.id)
    ).all()
    lines = [PostingLine(roles[r.account_id], r.debit, r.credit, r.customer_id, r.supplier_id) for r in rows]
    post(uow, entry_date, source_type, source_id, event, f"Reversal of: {original.description}",
         reversal(lines), reversal_of_id=original.id)


def flush_journal(uow: UnitOfWork) -> None:
    """Number and insert every queued entry: the sequence lock is taken here, just before commit."""
    if not uow.journal:
        return
    session = uow.session
    accounts = uow.erp.account_ids(session)
    entries = sorted(uow.journal, key=lambda e: e.entry_date)
    by_year: dict[int, list[PendingEntry]] = defaultdict(list)
    for entry in entries:
        by_year[entry.entry_date.year].append(entry)
    if session.get_bind().dialect.name == "postgresql":
        from erpcore.services import journal_pg

        for year in sorted(by_year):
            journal_pg.flush_year(session, year, by_year[year], accounts)
        uow.journal.clear()
        return
    headers = []
    for year in sorted(by_year):
        first = numbering.take(uow, "journal_entry", year, len(by_year[year]))
        for offset, entry in enumerate(by_year[year]):
            headers.append({
                "number": numbering.format_number("journal_entry", year, first + offset),
                "entry_date": entry.entry_date, "source_type": entry.source_type,
                "source_id": entry.source_id, "event": entry.event, "description": entry.description[:200],
                "reversal_of_id": entry.reversal_of_id,
            })
    ordered = [e for year in sorted(by_year) for e in by_year[year]]
    ids = session.scalars(
        insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True), headers
    ).all()
    lines = [
        {"journal_entry_id": entry_id, "account_id": accounts[line.role], "debit": line.debit,
         "credit": line.credit, "customer_id": line.customer_id, "supplier_id": line.supplier_id}
        for entry_id, entry in zip(ids, ordered, strict=True) for line in entry.lines
    ]
    if lines:  # on the Connection: one executemany, where the ORM splits rows by which ids are None
        session.connection().execute(insert(JournalLine), lines)
    uow.journal.clear()


def lock_balances(uow: UnitOfWork, keys: Iterable[Key]) -> dict[Key, Balance]:
    """Lock the stock balance rows of `keys` in (item, warehouse) order, creating missing ones.

    The fixed order is what keeps concurrent writers from deadlocking on each other.
    """
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    balances = _lock_existing(uow, wanted)
    missing = [key for key in wanted if key not in balances]
    if missing:  # rare (an item's first move in a warehouse): create the rows, then lock them all in order
        insert_ignore(uow.session, StockBalance, [
            {"item_id": i, "warehouse_id": w, "on_hand": 0, "reserved": 0, "value_amount": 0} for i, w in missing
        ], ["item_id", "warehouse_id"])
        balances = _lock_existing(uow, wanted)
    return balances


# The items' safety levels come with the lock (FOR UPDATE of the balances only: a lock on the item rows would
# block every foreign-key check on them), so the safety-stock handler needs no query of its own.
_BALANCES = (select(StockBalance.item_id, StockBalance.warehouse_id, StockBalance.on_hand, StockBalance.reserved,
                    StockBalance.value_amount, Item.safety_stock, Item.reorder_qty)
             .join(Item, Item.id == StockBalance.item_id)
             .order_by(StockBalance.item_id, StockBalance.warehouse_id).with_for_update(of=StockBalance.__table__))
_ANY_KEY, _ANY_KEY_PG = pairs_in(StockBalance.item_id, StockBalance.warehouse_id)
LOCK_BALANCES = Query(_BALANCES.where(_ANY_KEY), postgresql=_BALANCES.where(_ANY_KEY_PG))
LEVELS_MEMO = "stock_levels"  # uow.memo: (item, warehouse) -> StockLevel as this transaction left it
_SAFETY_MEMO = "safety_levels"  # uow.memo: (item, warehouse) -> (safety stock, reorder quantity)


@dataclass(frozen=True)
class StockLevel:
    """A balance after this transaction's writes, with its item's safety stock and reorder quantity."""

    item_id: int
    warehouse_id: int
    on_hand: Decimal
    reserved: Decimal
    safety_stock: Decimal
    reorder_qty: Decimal


def _lock_existing(uow: UnitOfWork, wanted: list[Key]) -> dict[Key, Balance]:
    rows = LOCK_BALANCES.rows(uow.conn, pairs_params(wanted))
    safety: dict[Key, tuple[Decimal, Decimal]] = uow.memo.setdefault(_SAFETY_MEMO, {})  # type: ignore[assignment]
    safety.update({(r.item_id, r.warehouse_id): (r.safety_stock, r.reorder_qty) for r in rows})
    return {(r.item_id, r.warehouse_id): Balance(r.on_hand, r.reserved, r.value_amount) for r in rows}


WRITE_BALANCES = batch_update(
    StockBalance, {"k_item": StockBalance.item_id, "k_wh": StockBalance.warehouse_id},
    lambda p: {"on_hand": p["v_on_hand"], "reserved": p["v_reserved"], "value_amount": p["v_value"]},
    {"k_item": BigInteger(), "k_wh": BigInteger(), "v_on_hand": Numeric(), "v_reserved": Numeric(),
     "v_value": Numeric()})


def write_balances(uow: UnitOfWork, balances: dict[Key, Balance]) -> None:
    """Write the locked balances back; their new levels are noted in `LEVELS_MEMO` for the event handlers."""
    WRITE_BALANCES.many(uow.conn, [
        {"k_item": i, "k_wh": w, "v_on_hand": b.on_hand, "v_reserved": b.reserved, "v_value": b.value}
        for (i, w), b in balances.items()
    ])
    safety: dict[Key, tuple[Decimal, Decimal]] = uow.memo.get(_SAFETY_MEMO, {})  # type: ignore[assignment]
    levels: dict[Key, StockLevel] = uow.memo.setdefault(LEVELS_MEMO, {})  # type: ignore[assignment]
    for (i, w), b in balances.items():
        if (i, w) in safety:
            levels[(i, w)] = StockLevel(i, w, b.on_hand, b.reserved, *safety[(i, w)])


INSERT_MOVES = batch_insert(StockMove, "item_id", "warehouse_id", "move_date", "quantity", "value_amount",
                            "source_type", "source_id", "source_line_id", "event", "created_at")


@dataclass(frozen=True)
class Move:
    item_id: int
    warehouse_id: int
    quantity: Decimal
    value: Decimal
    source_line_id: int


def add_moves(uow: UnitOfWork, move_date: dt.date, source_type: str, source_id: int, event: str,
              moves: list[Move]) -> None:
    """Append stock moves (signed quantities and values) to the stock ledger."""
    if not moves:
        return
    now = dt.datetime.now(dt.UTC)
    INSERT_MOVES.many(uow.conn, [
        {"item_id": m.item_id, "warehouse_id": m.warehouse_id, "move_date": move_date,
         "quantity": m.quantity, "value_amount": m.value, "source_type": source_type,
         "source_id": source_id, "source_line_id": m.source_line_id, "event": event, "created_at": now}
        for m in moves
    ])
