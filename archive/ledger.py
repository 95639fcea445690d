"""Carry-forward: what keeps the general and stock ledgers whole when their old rows leave production.

Per archived batch of journal entries, one balanced journal entry `ARCF-<batch>` dated on the batch's
last entry date carries each (account, customer, supplier) net balance of the archived lines; per batch
of stock moves, one move per (item, warehouse) carries the net quantity and value. Balances as of any
date on or after the batch's last date are therefore unchanged, stock balances still equal the sum of
their moves, and AR/AP per party still equal their open invoices. Restoring part of a batch replaces
its carry-forward with one computed from what is still archived.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, and_, delete, insert, select

from archive.families import CARRY_FORWARD_SOURCE, Family
from archive.store import now

CENT4 = Decimal("0.0001")
EVENT = "carry_forward"
# Per carry-forward kind, what `replace` reads of the archived rows, summed per key by the server: a batch
# that moves inside PostgreSQL passes these sums as its rows (the nets and latest dates come out the same).
IN_SERVER = {
    "journal": {
        "journal_entry": "SELECT max(entry_date) AS entry_date FROM journal_entry WHERE id = ANY(%(roots)s::bigint[])",
        "journal_line": "SELECT account_id, customer_id, supplier_id, sum(debit) AS debit, sum(credit) AS credit "
                        "FROM journal_line WHERE journal_entry_id = ANY(%(roots)s::bigint[]) "
                        "GROUP BY account_id, customer_id, supplier_id"},
    "stock": {
        "stock_move": "SELECT item_id, warehouse_id, sum(quantity) AS quantity, sum(value_amount) AS value_amount, "
                      "max(id) AS id, max(move_date) AS move_date FROM stock_move WHERE id = ANY(%(roots)s::bigint[]) "
                      "GROUP BY item_id, warehouse_id"},
}


def summed_in_server(conn: Connection, family: Family, roots: list[Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows `replace` needs for the closures of `roots`, as per-key sums computed by the server."""
    queries = IN_SERVER.get(family.carry_forward or "", {})
    return {table: [dict(r._mapping) for r in conn.exec_driver_sql(sql, {"roots": roots})]
            for table, sql in queries.items()}


def _d(value: Any) -> Decimal:
    return Decimal(repr(value) if isinstance(value, float) else str(value)).quantize(CENT4)


def _latest(rows: Iterable[Mapping[str, Any]], column: str) -> dt.date:
    return max(r[column] if isinstance(r[column], dt.date) else dt.date.fromisoformat(str(r[column])[:10])
               for r in rows)


def replace(conn: Connection, tables: Mapping[str, Table], family: Family, batch_id: int,
            rows: Mapping[str, list[dict[str, Any]]]) -> str:
    """Drop the batch's carry-forward and write the one for `rows` (the batch's rows still archived)."""
    if family.carry_forward == "journal":
        return _journal(conn, tables["journal_entry"], tables["journal_line"], batch_id, rows)
    if family.carry_forward == "stock":
        return _stock(conn, tables["stock_move"], batch_id, rows.get("stock_move", []))
    return ""


def _journal(conn: Connection, entry: Table, line: Table, batch_id: int,
             rows: Mapping[str, list[dict[str, Any]]]) -> str:
    old = select(entry.c.id).where(and_(entry.c.source_type == CARRY_FORWARD_SOURCE,
                                        entry.c.source_id == batch_id, entry.c.event == EVENT))
    old_ids = list(conn.execute(old).scalars())
    if old_ids:
        conn.execute(delete(line).where(line.c.journal_entry_id.in_(old_ids)))
        conn.execute(delete(entry).where(entry.c.id.in_(old_ids)))
    nets: dict[tuple[Any, Any, Any], Decimal] = defaultdict(Decimal)
    for r in rows.get("journal_line", []):
        nets[(r["account_id"], r["customer_id"], r["supplier_id"])] += _d(r["debit"]) - _d(r["credit"])
    nets = {k: v for k, v in nets.items() if v != 0}
    if not nets:
        return "no balance to carry forward"
    number = f"ARCF-{batch_id:010d}"
    entry_id = conn.execute(insert(entry).values(
        number=number, entry_date=_latest(rows["journal_entry"], "entry_date"), source_type=CARRY_FORWARD_SOURCE,
        source_id=batch_id, event=EVENT, description=f"archive batch {batch_id}: balances carried forward",
        created_at=now())).inserted_primary_key[0]  # type: ignore[index]
    conn.execute(insert(line), [
        {"journal_entry_id": entry_id, "account_id": a, "customer_id": c, "supplier_id": s,
         "debit": v if v > 0 else Decimal(0), "credit": -v if v < 0 else Decimal(0)}
        for (a, c, s), v in sorted(nets.items(), key=lambda kv: tuple(str(x) for x in kv[0]))])
    return f"{len(nets)} balance(s) carried forward in journal entry {number}"


def _stock(conn: Connection, move: Table, batch_id: int, rows: list[dict[str, Any]]) -> str:
    conn.execute(delete(move).where(and_(move.c.source_type == CARRY_FORWARD_SOURCE, move.c.source_id == batch_id)))
    nets: dict[tuple[Any, Any], list[Any]] = defaultdict(lambda: [Decimal(0), Decimal(0), 0])
    for r in rows:
        net = nets[(r["item_id"], r["warehouse_id"])]
        net[0] += _d(r["quantity"])
        net[1] += _d(r["value_amount"])
        net[2] = max(net[2], r["id"])  # the archived move's id: unique, so the carry-forward's line key is too
    if not rows:
        return "no stock to carry forward"
    day = _latest(rows, "move_date")
    out = []
    for (item, warehouse), (quantity, value, key) in sorted(nets.items()):
        base = {"item_id": item, "warehouse_id": warehouse, "move_date": day, "source_type": CARRY_FORWARD_SOURCE,
                "source_id": batch_id, "source_line_id": key, "created_at": now()}
        if quantity != 0:
            out.append({**base, "quantity": quantity, "value_amount": value, "event": EVENT})
        elif value != 0:  # a move may not have zero quantity: carry the value on +1 and take the unit back
            out.append({**base, "quantity": Decimal(1), "value_amount": value, "event": EVENT})
            out.append({**base, "quantity": Decimal(-1), "value_amount": Decimal(0), "event": EVENT + "_adj"})
    if out:
        conn.execute(insert(move), out)
    return f"{len(out)} stock balance move(s) carried forward"
