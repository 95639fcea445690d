"""Room for a sealed webhook secret: `outbox_subscription.secret` from 200 to 400 characters.

A secret of up to 200 characters sealed by `erpcore.crypto` (`v1:<key id>:` and base64 of nonce, ciphertext
and tag) takes up to 340. PostgreSQL enforces the length, so the column widens there; SQLite does not enforce
VARCHAR lengths, and rebuilding the table (batch mode) would drop it under `outbox_delivery`'s cascading
foreign key, so SQLite is left as it is.

Revision ID: 0016_sealed_secrets
Revises: 0009_archive2
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016_sealed_secrets"
down_revision = "0009_archive2"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("outbox_subscription", "secret", type_=sa.String(400), existing_type=sa.String(200),
                        existing_nullable=False)


def downgrade() -> None:
    """Fails on PostgreSQL while a sealed secret is longer than 200 characters: `erpops keys` cannot unseal."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("outbox_subscription", "secret", type_=sa.String(200), existing_type=sa.String(400),
                        existing_nullable=False)
