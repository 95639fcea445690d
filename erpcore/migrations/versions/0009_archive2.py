"""Index the two referencing columns of the returns that had none: `customer_return.sales_order_id` and
`supplier_return.purchase_order_id`.

A return moves with its order's closure through its shipment or goods receipt; its direct link to the order
is a second reference into the same closure. Without an index each deleted `sales_order` or `purchase_order`
row (the archive's, or any) made PostgreSQL scan the whole returns table once to check the foreign key.
Found by `archive.closure.unindexed_references` (`erpops archive plan` shows it).

Revision ID: 0009_archive2
Revises: 0015_outbox
"""
from __future__ import annotations

from alembic import op

revision = "0009_archive2"
down_revision = "0015_outbox"
branch_labels = None
depends_on = None

REFERENCES = (
    ("customer_return", "sales_order_id"),
    ("supplier_return", "purchase_order_id"),
)


def upgrade() -> None:
    for table, column in REFERENCES:
        op.create_index(f"ix_{table}_{column}", table, [column], unique=False)


def downgrade() -> None:
    for table, column in REFERENCES:
        op.drop_index(f"ix_{table}_{column}", table_name=table)
