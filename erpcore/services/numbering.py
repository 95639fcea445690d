"""Document numbers, unique per type and year; legal ones gap-free because they are taken at posting.

A legal number (journal entries, customer invoices) is taken by incrementing the (type, year) row in the
posting transaction: a rollback gives it back, so committed legal numbers have no gaps. The row stays
locked until commit, which is why the journal takes its numbers last (see UnitOfWork).

Other numbers need only be unique per type and year, so on PostgreSQL a process takes them in blocks of
`BLOCK`, each in its own short transaction on a connection of its own: no posting waits on another's
sequence row, at the price of gaps (a block dies with its process) and of numbers that follow the order
of blocks rather than of commits. SQLite has one writer at a time, so there every number is taken in the
posting transaction, as legal ones are.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, TextClause, bindparam, create_engine, text, update

from erpcore.models import DocumentSequence
from erpcore.services.sql import Query, insert_ignore
from erpcore.services.unit_of_work import UnitOfWork

PREFIX = {
    "sales_order": "SO",
    "shipment": "SHP",
    "customer_invoice": "INV",
    "customer_receipt": "RCT",
    "purchase_requisition": "PR",
    "purchase_order": "PO",
    "goods_receipt": "GRN",
    "supplier_invoice": "SINV",
    "supplier_payment": "PAY",
    "journal_entry": "JE",
    "work_order": "WO",
    "customer_return": "CRN",
    "supplier_return": "SRN",
}
LEGAL = frozenset({"journal_entry", "customer_invoice", "customer_return"})  # a credit note is numbered gap-free
BLOCK = 50


def format_number(doc_type: str, year: int, value: int) -> str:
    return f"{PREFIX[doc_type]}-{year}-{value:07d}"


def take(uow: UnitOfWork, doc_type: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers in the unit of work's transaction; returns the first."""
    return _take(uow.conn, doc_type, year, count)


ADVANCE = Query(
    update(DocumentSequence)
    .where(DocumentSequence.doc_type == bindparam("k_type"), DocumentSequence.year == bindparam("k_year"))
    .values(next_value=DocumentSequence.next_value + bindparam("v_count"))
    .returning(DocumentSequence.next_value))


def _take(conn: Connection, doc_type: str, year: int, count: int) -> int:
    params = {"k_type": doc_type, "k_year": year, "v_count": count}
    after = ADVANCE.scalar(conn, params)
    if after is None:  # the first number of this type and year: create the row, then count on it
        insert_ignore(conn, DocumentSequence, [{"doc_type": doc_type, "year": year, "next_value": 1}],
                      ["doc_type", "year"])
        after = ADVANCE.scalar(conn, params)
    return int(after) - count


def next_number(uow: UnitOfWork, doc_type: str, year: int) -> str:
    if doc_type in LEGAL or uow.resources.engine.dialect.name != "postgresql":
        return format_number(doc_type, year, take(uow, doc_type, year))
    return format_number(doc_type, year, uow.resources.number_blocks.take(doc_type, year))


@dataclass
class NumberBlocks:
    """Blocks of non-legal numbers per (type, year), refilled on a connection outside any posting.

    The side pool is a copy of the engine's (same connect arguments, e.g. a search_path) so that a refill
    never waits for a connection the postings hold; the lock keeps it to one connection, closed after each
    refill so that no idle connection outlives its use (a refill is one in `BLOCK` numbers).
    """

    engine: Engine
    _side: Engine | None = None
    _free: dict[tuple[str, int], tuple[int, int]] = field(default_factory=dict)  # (next, end)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, doc_type: str, year: int) -> int:
        with self._lock:
            nxt, end = self._free.get((doc_type, year), (0, 0))
            if nxt >= end:
                nxt = self._refill(doc_type, year)
                end = nxt + BLOCK
            self._free[(doc_type, year)] = (nxt + 1, end)
            return nxt

    def _refill(self, doc_type: str, year: int) -> int:
        if self._side is None:
            self._side = create_engine(self.engine.url, pool=self.engine.pool.recreate())
        try:
            with self._side.begin() as conn:
                return _take(conn, doc_type, year, BLOCK)
        finally:
            self._side.dispose()


def numbered_insert(table: str, doc_type: str, columns: Sequence[str]) -> TextClause:
    """PostgreSQL: take the next legal number of `doc_type` and insert the document with it in one statement.

    Parameters: `year` and one `v_<column>` per column; returns the row. It returns nothing when the year has
    no sequence row yet (see `insert_numbered`). The number is built as `format_number` builds it.
    """
    values = ", ".join(f":v_{c}" for c in columns)
    return text(
        f"WITH seq AS (UPDATE document_sequence SET next_value = next_value + 1 "
        f"WHERE doc_type = '{doc_type}' AND year = :year RETURNING next_value - 1 AS n) "
        f"INSERT INTO {table} (number, {', '.join(columns)}) "
        f"SELECT '{PREFIX[doc_type]}-' || CAST(:year AS text) || '-' || "
        f"lpad(CAST(n AS text), greatest(7, length(CAST(n AS text))), '0'), {values} FROM seq RETURNING *")


def insert_numbered(uow: UnitOfWork, doc_type: str, year: int, plain: Query, numbered: Query,
                    params: dict[str, Any]) -> dict[str, Any]:
    """Insert a document under its next legal number; returns the row written.

    On PostgreSQL one statement takes the number and inserts (`numbered`, from `numbered_insert`): the
    sequence row is locked until commit, and this saves the round trip that would otherwise be spent
    holding it. Elsewhere the number is taken first, then `plain` inserts with `v_number`.
    """
    if uow.conn.dialect.name != "postgresql":
        return plain.dicts(uow.conn, {**params, "v_number": next_number(uow, doc_type, year)})[0]
    rows = numbered.dicts(uow.conn, {**params, "year": year})
    if not rows:  # the first number of this type and year: create the row, then count on it
        insert_ignore(uow.conn, DocumentSequence, [{"doc_type": doc_type, "year": year, "next_value": 1}],
                      ["doc_type", "year"])
        rows = numbered.dicts(uow.conn, {**params, "year": year})
    return rows[0]
