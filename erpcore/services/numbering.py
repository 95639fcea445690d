"""Document numbers, unique per type and year; legal ones gap-free because they are taken at posting.

A number is taken by incrementing the (type, year) row in the posting transaction: a rollback gives it
back, so committed legal numbers have no gaps. The row stays locked until commit, which is why the
journal takes its numbers last (see UnitOfWork).
"""

from __future__ import annotations

from sqlalchemy import update

from erpcore.models import DocumentSequence
from erpcore.services.sql import insert_ignore
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
}


def format_number(doc_type: str, year: int, value: int) -> str:
    return f"{PREFIX[doc_type]}-{year}-{value:07d}"


def take(uow: UnitOfWork, doc_type: str, year: int, count: int = 1) -> int:
    """Reserve `count` consecutive numbers; returns the first."""
    session = uow.session
    insert_ignore(session, DocumentSequence, [{"doc_type": doc_type, "year": year, "next_value": 1}],
                  ["doc_type", "year"])
    stmt = (
        update(DocumentSequence)
        .where(DocumentSequence.doc_type == doc_type, DocumentSequence.year == year)
        .values(next_value=DocumentSequence.next_value + count)
        .returning(DocumentSequence.next_value)
    )
    after = session.execute(stmt).scalar_one()
    return int(after) - count


def next_number(uow: UnitOfWork, doc_type: str, year: int) -> str:
    return format_number(doc_type, year, take(uow, doc_type, year))
