"""Idempotency keys expire: an index on `created_at` so the purge of expired keys reads only those.

The document an applied request wrote is recorded in the key's `response_body` (JSON) until the response
is stored, so this revision adds no column.

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idempotency_key_created_at", "idempotency_key", ["created_at"])


def downgrade() -> None:
    op.drop_index("ix_idempotency_key_created_at", table_name="idempotency_key")
