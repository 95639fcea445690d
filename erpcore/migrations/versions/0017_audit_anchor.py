"""The audit trail's anchors: per chain, the seq and hash of the last entry that left production for the archive.

`erpops audit verify` starts each chain from its anchor instead of GENESIS (the first entry in production links
onto the anchor's hash), so old entries can be archived without breaking verification, as log systems truncate a
chain at a checkpoint. Seq 0 and the GENESIS hash mean nothing was archived.

Revision ID: 0017_audit_anchor
Revises: 0016_sealed_secrets
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_audit_anchor"
down_revision = "0016_sealed_secrets"
branch_labels = None
depends_on = None

GENESIS = "0" * 64  # erpcore.domain.audit.GENESIS
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("audit_chain") as batch:
        batch.add_column(sa.Column("anchor_seq", BigId, nullable=False, server_default="0"))
        batch.add_column(sa.Column("anchor_hash", sa.String(64), nullable=False, server_default=GENESIS))


def downgrade() -> None:
    with op.batch_alter_table("audit_chain") as batch:
        batch.drop_column("anchor_hash")
        batch.drop_column("anchor_seq")
