"""The journal: balanced entries queued by the writes of a unit of work, numbered and written at its commit.

`flush` is the last pre-commit step (see `bootstrap`): the journal sequence row is the one lock every
posting shares, held from its number to commit, so it is taken as late as possible. On PostgreSQL a year's
entries are numbered and inserted with their lines in one statement: as separate statements, every round
trip in between (and the wait for the GIL after each, in a busy server) lengthened that hold.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, insert, select, text

from erpcore.domain.accounts import Role
from erpcore.domain.postings import PendingEntry, PostingLine, is_balanced, reversal
from erpcore.exceptions import NotFound
from erpcore.models import DocumentSequence, JournalEntry, JournalLine
from erpcore.services import numbering
from erpcore.services.sql import Query, insert_ignore
from erpcore.services.unit_of_work import UnitOfWork


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
    conn = uow.conn
    original = conn.execute(
        select(JournalEntry.id, JournalEntry.description).where(
            JournalEntry.source_type == source_type, JournalEntry.source_id == source_id,
            JournalEntry.event == original_event,
        )
    ).one_or_none()
    if original is None:
        raise NotFound(f"{source_type} {source_id} has no '{original_event}' journal entry to reverse")
    roles = {v: k for k, v in uow.resources.account_ids(conn).items()}
    rows = conn.execute(
        select(JournalLine.account_id, JournalLine.debit, JournalLine.credit, JournalLine.customer_id,
               JournalLine.supplier_id).where(JournalLine.journal_entry_id == original.id)
    ).all()
    lines = [PostingLine(roles[r.account_id], r.debit, r.credit, r.customer_id, r.supplier_id) for r in rows]
    post(uow, entry_date, source_type, source_id, event, f"Reversal of: {original.description}",
         reversal(lines), reversal_of_id=original.id)


def flush(uow: UnitOfWork) -> None:
    """Number and insert every queued entry, by year: the sequence lock is taken here, just before commit."""
    if not uow.journal:
        return
    conn = uow.conn
    accounts = uow.resources.account_ids(conn)
    by_year: dict[int, list[PendingEntry]] = defaultdict(list)
    for entry in sorted(uow.journal, key=lambda e: e.entry_date):
        by_year[entry.entry_date.year].append(entry)
    write = _flush_year_pg if conn.dialect.name == "postgresql" else _flush_year
    for year in sorted(by_year):
        write(uow, year, by_year[year], accounts)
    uow.journal.clear()


def _flush_year(uow: UnitOfWork, year: int, entries: list[PendingEntry], accounts: dict[Role, int]) -> None:
    first = numbering.take(uow, "journal_entry", year, len(entries))
    headers = [{
        "number": numbering.format_number("journal_entry", year, first + offset), "entry_date": e.entry_date,
        "source_type": e.source_type, "source_id": e.source_id, "event": e.event,
        "description": e.description[:200], "reversal_of_id": e.reversal_of_id,
    } for offset, e in enumerate(entries)]
    ids = uow.session.scalars(
        insert(JournalEntry).returning(JournalEntry.id, sort_by_parameter_order=True), headers).all()
    lines = [
        {"journal_entry_id": entry_id, "account_id": accounts[line.role], "debit": line.debit,
         "credit": line.credit, "customer_id": line.customer_id, "supplier_id": line.supplier_id}
        for entry_id, entry in zip(ids, entries, strict=True) for line in entry.lines
    ]
    if lines:  # on the Connection: one executemany, where the ORM splits rows by which ids are None
        uow.conn.execute(insert(JournalLine), lines)


# The number is built as numbering.format_number does: PREFIX-YEAR-value, value zero-padded to 7 digits.
_NUMBER = ("CAST(:prefix AS text) || '-' || CAST(:year AS text) || '-' || "
           "lpad(CAST(seq.first + {ord} AS text), greatest(7, length(CAST(seq.first + {ord} AS text))), '0')")
FLUSH_PG = Query(text(f"""
WITH seq AS (
    UPDATE document_sequence SET next_value = next_value + :count
    WHERE doc_type = 'journal_entry' AND year = :year
    RETURNING next_value - :count AS first
), entry AS (
    INSERT INTO journal_entry (number, entry_date, source_type, source_id, event, description, reversal_of_id)
    SELECT {_NUMBER.format(ord="e.ord")}, e.entry_date, e.source_type, e.source_id, e.event, e.description,
           e.reversal_of_id
    FROM seq CROSS JOIN unnest(CAST(:e_ord AS int[]), CAST(:e_date AS date[]), CAST(:e_type AS text[]),
                               CAST(:e_source AS bigint[]), CAST(:e_event AS text[]), CAST(:e_desc AS text[]),
                               CAST(:e_reversal AS bigint[]))
         AS e(ord, entry_date, source_type, source_id, event, description, reversal_of_id)
    RETURNING id, number
)
INSERT INTO journal_line (journal_entry_id, account_id, debit, credit, customer_id, supplier_id)
SELECT entry.id, l.account_id, l.debit, l.credit, l.customer_id, l.supplier_id
FROM seq CROSS JOIN unnest(CAST(:l_ord AS int[]), CAST(:l_account AS bigint[]), CAST(:l_debit AS numeric[]),
                           CAST(:l_credit AS numeric[]), CAST(:l_customer AS bigint[]), CAST(:l_supplier AS bigint[]))
     AS l(ord, account_id, debit, credit, customer_id, supplier_id)
JOIN entry ON entry.number = {_NUMBER.format(ord="l.ord")}
"""))


def _flush_year_pg(uow: UnitOfWork, year: int, entries: list[PendingEntry], accounts: dict[Role, int]) -> None:
    """Number `entries` (all of `year`) and write them with their lines; creates the year's sequence row."""
    conn: Connection = uow.conn
    params = _pg_params(year, entries, accounts)
    if FLUSH_PG.execute(conn, params) == len(params["l_ord"]):
        return
    # No sequence row for the year yet, so nothing was written: create it (its first number is 1) and retry.
    insert_ignore(conn, DocumentSequence, [{"doc_type": "journal_entry", "year": year, "next_value": 1}],
                  ["doc_type", "year"])
    written = FLUSH_PG.execute(conn, params)
    if written != len(params["l_ord"]):
        raise RuntimeError(f"journal flush wrote {written} of {len(params['l_ord'])} lines for {year}")


def _pg_params(year: int, entries: list[PendingEntry], accounts: dict[Role, int]) -> dict[str, Any]:
    lines = [(n, line) for n, entry in enumerate(entries) for line in entry.lines]
    return {
        "prefix": numbering.PREFIX["journal_entry"], "year": year, "count": len(entries),
        "e_ord": list(range(len(entries))), "e_date": [e.entry_date for e in entries],
        "e_type": [e.source_type for e in entries], "e_source": [e.source_id for e in entries],
        "e_event": [e.event for e in entries], "e_desc": [e.description[:200] for e in entries],
        "e_reversal": [e.reversal_of_id for e in entries],
        "l_ord": [n for n, _ in lines], "l_account": [accounts[line.role] for _, line in lines],
        "l_debit": [line.debit for _, line in lines], "l_credit": [line.credit for _, line in lines],
        "l_customer": [line.customer_id for _, line in lines], "l_supplier": [line.supplier_id for _, line in lines],
    }
