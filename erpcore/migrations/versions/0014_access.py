"""Least privilege and the audit trail: custom roles, token expiry, hash-chained audit entries.

Revision ID: 0014_access
Revises: 0013_rules
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014_access"
down_revision = "0013_rules"
branch_labels = None
depends_on = None

CHAINS = 64  # erpcore.domain.audit.CHAINS when this migration was written; more are added on first use
GENESIS = "0" * 64
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _audit_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("chain", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("seq", BigId, nullable=False, server_default="0"),
        sa.Column("role", sa.String(24), nullable=False, server_default=""),
        sa.Column("outcome", sa.String(12), nullable=False, server_default="done"),
        sa.Column("ref", sa.String(80), nullable=True),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
    ]


def upgrade() -> None:
    op.create_table(
        "role",
        sa.Column("name", sa.String(24), primary_key=True),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_table(
        "role_permission",
        sa.Column("role", sa.String(24), sa.ForeignKey("role.name", ondelete="CASCADE",
                                                       name="fk_role_permission_role_role"), primary_key=True),
        sa.Column("permission", sa.String(80), primary_key=True),
    )
    chain = op.create_table(
        "audit_chain",
        sa.Column("chain", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", BigId, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(chain, [{"chain": c, "seq": 0, "head_hash": GENESIS, "prev_hash": GENESIS} for c in range(CHAINS)])
    with op.batch_alter_table("api_token") as batch:
        batch.add_column(sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("audit_event") as batch:
        for column in _audit_columns():
            batch.add_column(column)
    op.create_index("ux_audit_event_chain_seq", "audit_event", ["chain", "seq"], unique=True)
    op.create_index("ix_audit_event_ref", "audit_event", ["ref"])
    op.create_index("ix_audit_event_entity", "audit_event", ["entity", "entity_id"])


def downgrade() -> None:
    for name in ("ix_audit_event_entity", "ix_audit_event_ref", "ux_audit_event_chain_seq"):
        op.drop_index(name, table_name="audit_event")
    with op.batch_alter_table("audit_event") as batch:
        for column in reversed(_audit_columns()):
            batch.drop_column(column.name)
    with op.batch_alter_table("api_token") as batch:
        batch.drop_column("expires_at")
    op.drop_table("audit_chain")
    op.drop_table("role_permission")
    op.drop_table("role")
