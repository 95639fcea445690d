"""Fiscal periods: calendar months that can be closed (no posting into them) and reopened.

Revision ID: 0006
Revises: 0020_advisor_indexes
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0020_advisor_indexes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fiscal_period",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("month", sa.Integer(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(200), nullable=True),
        sa.UniqueConstraint("year", "month", name="uq_fiscal_period_year_month"),
        sa.CheckConstraint("month BETWEEN 1 AND 12", name="ck_fiscal_period_month"),
    )
    op.create_index("ix_fiscal_period_end_date", "fiscal_period", ["end_date"])


def downgrade() -> None:
    op.drop_index("ix_fiscal_period_end_date", table_name="fiscal_period")
    op.drop_table("fiscal_period")
