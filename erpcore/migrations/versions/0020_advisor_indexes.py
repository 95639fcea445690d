"""Drop three indexes the index advisor found prefix-covered: each column leads a unique constraint's index.

`erpops advisor unused` on a seeded database under the loadtest `day` mix: `ix_sales_order_line_sales_order_id`
is a prefix of `uq_sales_order_line_sales_order_id_line_no`, `ix_purchase_order_line_purchase_order_id` of
`uq_purchase_order_line_purchase_order_id_line_no`, and `ix_supplier_invoice_supplier_id` of
`uq_supplier_invoice_supplier_id_supplier_ref`. The unique indexes answer every lookup by the leading column
and support the foreign keys; the single-column copies only cost writes and space.

Revision ID: 0020_advisor_indexes
Revises: 0005
"""
from __future__ import annotations

from alembic import op

revision = "0020_advisor_indexes"
down_revision = "0005"
branch_labels = None
depends_on = None

REDUNDANT = (
    ("ix_sales_order_line_sales_order_id", "sales_order_line", "sales_order_id"),
    ("ix_purchase_order_line_purchase_order_id", "purchase_order_line", "purchase_order_id"),
    ("ix_supplier_invoice_supplier_id", "supplier_invoice", "supplier_id"),
)


def upgrade() -> None:
    for name, table, _column in REDUNDANT:
        op.drop_index(name, table_name=table)


def downgrade() -> None:
    for name, table, column in REDUNDANT:
        op.create_index(name, table, [column], unique=False)
