"""The stock ledger: balances locked and written in a fixed order, moves appended. Set-based: one statement
per table, whatever the line count.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, Numeric, select

from erpcore.domain.stock import Balance
from erpcore.models import Item, StockBalance, StockMove
from erpcore.services.sql import Query, batch_insert, batch_update, insert_ignore, pairs_in, pairs_params
from erpcore.services.unit_of_work import Key, StockLevel, UnitOfWork


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
        insert_ignore(uow.conn, StockBalance, [
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


def _lock_existing(uow: UnitOfWork, wanted: list[Key]) -> dict[Key, Balance]:
    rows = LOCK_BALANCES.rows(uow.conn, pairs_params(wanted))
    uow.safety.update({(r.item_id, r.warehouse_id): (r.safety_stock, r.reorder_qty) for r in rows})
    return {(r.item_id, r.warehouse_id): Balance(r.on_hand, r.reserved, r.value_amount) for r in rows}


WRITE_BALANCES = batch_update(
    StockBalance, {"k_item": StockBalance.item_id, "k_wh": StockBalance.warehouse_id},
    lambda p: {"on_hand": p["v_on_hand"], "reserved": p["v_reserved"], "value_amount": p["v_value"]},
    {"k_item": BigInteger(), "k_wh": BigInteger(), "v_on_hand": Numeric(), "v_reserved": Numeric(),
     "v_value": Numeric()})


def write_balances(uow: UnitOfWork, balances: dict[Key, Balance]) -> None:
    """Write the locked balances back; their new levels are kept in `uow.levels` for the event handlers."""
    WRITE_BALANCES.many(uow.conn, [
        {"k_item": i, "k_wh": w, "v_on_hand": b.on_hand, "v_reserved": b.reserved, "v_value": b.value}
        for (i, w), b in balances.items()
    ])
    for (i, w), b in balances.items():
        if (i, w) in uow.safety:
            uow.levels[(i, w)] = StockLevel(i, w, b.on_hand, b.reserved, *uow.safety[(i, w)])


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
