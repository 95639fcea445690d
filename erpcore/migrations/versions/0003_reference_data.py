"""Reference data every ERP database starts with: the default chart of accounts, tax codes, a warehouse.

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.domain.accounts import DEFAULT_CHART, DEFAULT_TAX_CODES

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    account = sa.table("account", sa.column("code"), sa.column("name"), sa.column("type"), sa.column("role"))
    tax = sa.table("tax_code", sa.column("code"), sa.column("name"), sa.column("rate"))
    warehouse = sa.table("warehouse", sa.column("code"), sa.column("name"))
    op.bulk_insert(account, [
        {"code": a.code, "name": a.name, "type": a.type.value, "role": a.role.value if a.role else None}
        for a in DEFAULT_CHART
    ])
    op.bulk_insert(tax, [{"code": c, "name": n, "rate": r} for c, n, r in DEFAULT_TAX_CODES])
    op.bulk_insert(warehouse, [{"code": "MAIN", "name": "Main warehouse"}])


def downgrade() -> None:
    op.execute("DELETE FROM warehouse WHERE code = 'MAIN'")
    op.execute("DELETE FROM tax_code")
    op.execute("DELETE FROM account")
