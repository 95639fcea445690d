"""The journal's PostgreSQL fast path: number a year's entries and insert them with their lines in one statement.

The journal sequence row is the one lock every posting shares, held from its number to commit. Written as
separate statements, every round trip in between (and the wait for the GIL after each, in a busy server)
lengthened that hold; as one statement, the lock is held for this statement and the commit only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from erpcore.domain.accounts import Role
from erpcore.models import DocumentSequence
from erpcore.services.numbering import PREFIX
from erpcore.services.sql import Query, insert_ignore
from erpcore.services.unit_of_work import PendingEntry

# The number is built as numbering.format_number does: PREFIX-YEAR-value, value zero-padded to 7 digits.
_NUMBER = ("CAST(:prefix AS text) || '-' || CAST(:year AS text) || '-' || "
           "lpad(CAST(seq.first + {ord} AS text), greatest(7, length(CAST(seq.first + {ord} AS text))), '0')")
FLUSH = Query(text(f"""
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


def flush_year(session: Session, year: int, entries: list[PendingEntry], accounts: dict[Role, int]) -> None:
    """Number `entries` (all of `year`) and write them with their lines; creates the year's sequence row."""
    params = _params(year, entries, accounts)
    if FLUSH.execute(session.connection(), params) == len(params["l_ord"]):
        return
    # No sequence row for the year yet, so nothing was written: create it (its first number is 1) and retry.
    insert_ignore(session, DocumentSequence, [{"doc_type": "journal_entry", "year": year, "next_value": 1}],
                  ["doc_type", "year"])
    written = FLUSH.execute(session.connection(), params)
    if written != len(params["l_ord"]):
        raise RuntimeError(f"journal flush wrote {written} of {len(params['l_ord'])} lines for {year}")


def _params(year: int, entries: list[PendingEntry], accounts: dict[Role, int]) -> dict[str, Any]:
    lines = [(n, line) for n, entry in enumerate(entries) for line in entry.lines]
    return {
        "prefix": PREFIX["journal_entry"], "year": year, "count": len(entries),
        "e_ord": list(range(len(entries))), "e_date": [e.entry_date for e in entries],
        "e_type": [e.source_type for e in entries], "e_source": [e.source_id for e in entries],
        "e_event": [e.event for e in entries], "e_desc": [e.description[:200] for e in entries],
        "e_reversal": [e.reversal_of_id for e in entries],
        "l_ord": [n for n, _ in lines], "l_account": [accounts[line.role] for _, line in lines],
        "l_debit": [line.debit for _, line in lines], "l_credit": [line.credit for _, line in lines],
        "l_customer": [line.customer_id for _, line in lines], "l_supplier": [line.supplier_id for _, line in lines],
    }
