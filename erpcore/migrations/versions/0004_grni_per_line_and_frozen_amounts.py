"""GRNI cleared per supplier invoice line, line discounts, frozen document amounts, purge for the archive role only.

- `supplier_invoice_line.grni_amount`: the GRNI a matched line cleared, so that a PO line fully received and
  fully billed clears GRNI to exactly zero (the rounding difference goes to price variance). Backfilled for
  invoices matched before this revision with what they posted (quantity x PO price, rounded to the cent).
- the retained earnings account (3100) gets its role, so reports can carry prior years' result into it.
- `sales_order_line.discount_percent` and `customer_invoice_line.discount_percent` (0 by default).
- PostgreSQL: the amounts and parties of orders and supplier invoices are frozen once written (only the
  derived columns change), and a supplier invoice line's `grni_amount` is set once. Deleting posted rows
  needs both `erpops.allow_purge = on` and membership of the `erpops_archive` role (superusers are members of
  every role), so an application login that is not an archiver cannot purge by setting a variable.

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# table -> columns frozen once the row exists (the others are derived and may change)
FROZEN_COLUMNS = {
    "sales_order": ("number", "customer_id", "order_date", "net_amount", "tax_amount"),
    "sales_order_line": ("sales_order_id", "line_no", "item_id", "quantity", "unit_price", "tax_rate",
                         "discount_percent", "net_amount", "tax_amount"),
    "purchase_order": ("number", "supplier_id", "order_date", "net_amount", "tax_amount"),
    "purchase_order_line": ("purchase_order_id", "line_no", "item_id", "quantity", "unit_price", "tax_rate",
                            "net_amount", "tax_amount"),
    "supplier_invoice": ("number", "supplier_id", "supplier_ref", "purchase_order_id", "invoice_date", "due_date",
                         "net_amount", "tax_amount", "total_amount"),
    "supplier_invoice_line": ("supplier_invoice_id", "purchase_order_line_id", "item_id", "quantity", "unit_price",
                              "tax_rate", "net_amount", "tax_amount"),
}

FUNCTIONS = """
CREATE OR REPLACE FUNCTION erpops_may_purge() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT current_setting('erpops.allow_purge', true) = 'on'
       AND EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'erpops_archive')
       AND pg_has_role(current_user, 'erpops_archive', 'MEMBER')
$$;

CREATE OR REPLACE FUNCTION erpops_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND erpops_may_purge() THEN
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
        IF erpops_may_purge() THEN
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

CREATE OR REPLACE FUNCTION erpops_refuse_frozen_columns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    frozen text[] := TG_ARGV::text[];
    col text;
BEGIN
    FOREACH col IN ARRAY frozen LOOP
        IF (to_jsonb(NEW) -> col) IS DISTINCT FROM (to_jsonb(OLD) -> col) THEN
            RAISE EXCEPTION 'erpops: %.% is frozen once written; correct it with a reversal', TG_TABLE_NAME, col
                USING ERRCODE = 'integrity_constraint_violation';
        END IF;
    END LOOP;
    IF (to_jsonb(OLD) ->> 'grni_amount') IS NOT NULL
       AND (to_jsonb(NEW) -> 'grni_amount') IS DISTINCT FROM (to_jsonb(OLD) -> 'grni_amount') THEN
        RAISE EXCEPTION 'erpops: %.grni_amount is set once, at match', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END $$;

DO $$ BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'erpops_archive') THEN
        CREATE ROLE erpops_archive NOLOGIN;
    END IF;
EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'erpops: no CREATEROLE privilege; create role erpops_archive to allow archiving';
END $$;
"""


def upgrade() -> None:
    money = sa.Numeric(18, 4)
    with op.batch_alter_table("supplier_invoice_line") as batch:
        batch.add_column(sa.Column("grni_amount", money, nullable=True))
    for table in ("sales_order_line", "customer_invoice_line"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("discount_percent", sa.Numeric(7, 4), nullable=False, server_default="0"))
    # the trial balance carries prior years' result into retained earnings (see `domain.closing`)
    op.execute("UPDATE account SET role = 'retained_earnings' WHERE code = '3100' AND role IS NULL")
    op.execute("""
        UPDATE supplier_invoice_line SET grni_amount = ROUND(supplier_invoice_line.quantity * (
            SELECT pol.unit_price FROM purchase_order_line pol
            WHERE pol.id = supplier_invoice_line.purchase_order_line_id), 2)
        WHERE supplier_invoice_id IN (SELECT id FROM supplier_invoice WHERE status IN ('matched', 'paid'))
    """)
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTIONS)
    for table, columns in FROZEN_COLUMNS.items():
        args = ", ".join(f"'{c}'" for c in columns)
        op.execute(f"CREATE TRIGGER {table}_frozen_columns BEFORE UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION erpops_refuse_frozen_columns({args})")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in FROZEN_COLUMNS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_frozen_columns ON {table}")
        op.execute("DROP FUNCTION IF EXISTS erpops_refuse_frozen_columns()")
    for table in ("sales_order_line", "customer_invoice_line"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("discount_percent")
    with op.batch_alter_table("supplier_invoice_line") as batch:
        batch.drop_column("grni_amount")
