"""PostgreSQL triggers that refuse updates and deletes of posted ledger rows and documents.

Journal entries and lines and stock moves never change. Posted documents may only change their
derived columns (status, paid and invoiced amounts); their content is frozen, and they are never
deleted. The archive tool, and only it, may delete by setting `erpops.allow_purge = on` for its
transaction.

Revision ID: 0002
Revises: 0001
"""
from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("journal_entry", "journal_line", "stock_move")

# table -> columns that a posted document may still change (derived from later documents)
FROZEN_WHEN_POSTED = {
    "shipment": ("status",),
    "shipment_line": ("qty_invoiced",),
    "customer_invoice": ("status", "amount_paid"),
    "customer_invoice_line": (),
    "customer_receipt": ("status",),
    "goods_receipt": ("status",),
    "goods_receipt_line": (),
    "supplier_payment": ("status",),
}

FUNCTIONS = """
CREATE OR REPLACE FUNCTION erpops_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('erpops.allow_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'erpops: % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;

CREATE OR REPLACE FUNCTION erpops_refuse_posted_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    allowed text[] := TG_ARGV::text[];
    col text;
BEGIN
    IF TG_OP = 'DELETE' THEN
        IF current_setting('erpops.allow_purge', true) = 'on' THEN
            RETURN OLD;
        END IF;
        RAISE EXCEPTION 'erpops: posted % rows are never deleted; cancel them with a reversal',
            TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    FOR col IN SELECT key FROM jsonb_each(to_jsonb(NEW)) LOOP
        IF NOT col = ANY(allowed)
           AND (to_jsonb(NEW) -> col) IS DISTINCT FROM (to_jsonb(OLD) -> col) THEN
            RAISE EXCEPTION 'erpops: % is posted; column % is frozen', TG_TABLE_NAME, col
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    RETURN NEW;
END $$;
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION erpops_refuse_change()"
        )
    for table, allowed in FROZEN_WHEN_POSTED.items():
        args = ", ".join(f"'{c}'" for c in allowed)
        op.execute(
            f"CREATE TRIGGER {table}_frozen BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION erpops_refuse_posted_change({args})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in APPEND_ONLY:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table}")
    for table in FROZEN_WHEN_POSTED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen ON {table}")
    op.execute("DROP FUNCTION IF EXISTS erpops_refuse_posted_change()")
    op.execute("DROP FUNCTION IF EXISTS erpops_refuse_change()")
