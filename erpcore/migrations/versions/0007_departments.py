"""Departments (with their cost centre): the key of budgets, purchases by department and employees.

Revision ID: 0007_departments
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_departments"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "department",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("cost_centre", sa.String(20), nullable=False),
        sa.UniqueConstraint("code", name="uq_department_code"),
    )


def downgrade() -> None:
    op.drop_table("department")
