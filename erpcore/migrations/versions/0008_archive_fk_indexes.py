"""Index the five referencing columns that had none, so a delete of the row they point at (the archive's,
or any) and the archive's reference checks look them up instead of scanning the whole referencing table.

Found by `archive.closure.unindexed_references` (shown by `erpops archive plan`): on PostgreSQL a foreign key
does not index its referencing column, and each deleted `sales_order_line`, `stock_reservation`,
`purchase_requisition` or `journal_entry` row made the database scan these tables once.

Revision ID: 0008_archive_fk_indexes
Revises: 0014_access
"""
from __future__ import annotations

from alembic import op

revision = "0008_archive_fk_indexes"
down_revision = "0014_access"
branch_labels = None
depends_on = None

REFERENCES = (
    ("journal_entry", "reversal_of_id"),
    ("purchase_requisition", "sales_order_line_id"),
    ("shipment_line", "reservation_id"),
    ("purchase_order_line", "requisition_id"),
    ("customer_invoice_line", "sales_order_line_id"),
)


def upgrade() -> None:
    for table, column in REFERENCES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in REFERENCES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
