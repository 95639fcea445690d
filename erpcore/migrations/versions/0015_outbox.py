"""Integration outbox: delivery state on `outbox`, webhook subscriptions, per-subscription acknowledgements.

Revision ID: 0015_outbox
Revises: 0008_archive_fk_indexes
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015_outbox"
down_revision = "0008_archive_fk_indexes"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("event_id", sa.String(36), nullable=True))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False, server_default="pending"))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(36), nullable=True))
        batch.create_unique_constraint("uq_outbox_event_id", ["event_id"])
        batch.create_index("ix_outbox_status_next_attempt_at", ["status", "next_attempt_at"])
    op.create_table(
        "outbox_subscription",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("topic_pattern", sa.String(120), nullable=False),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outbox_subscription"),
    )
    op.create_table(
        "outbox_delivery",
        sa.Column("message_id", ID, nullable=False),
        sa.Column("subscription_id", ID, nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox.id"], name="fk_outbox_delivery_message_id_outbox",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["subscription_id"], ["outbox_subscription.id"],
                                name="fk_outbox_delivery_subscription_id_outbox_subscription", ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "subscription_id", name="pk_outbox_delivery"),
    )


def downgrade() -> None:
    op.drop_table("outbox_delivery")
    op.drop_table("outbox_subscription")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_index("ix_outbox_status_next_attempt_at")
        batch.drop_constraint("uq_outbox_event_id", type_="unique")
        for column in ("claimed_by", "delivered_at", "last_error", "next_attempt_at", "attempts", "status", "event_id", "key"):
            batch.drop_column(column)
