"""PostgreSQL: the guard against deleting posted rows runs once a statement, not once a row.

The `_append_only` and `_frozen` triggers (0002, 0012) were `BEFORE UPDATE OR DELETE ... FOR EACH ROW`. For a
DELETE their answer never depended on the row: refuse unless `erpops_may_purge()`. But a BEFORE ROW DELETE
trigger makes PostgreSQL lock each row before the trigger runs, and that lock is WAL-logged. An archive run of
5 years x 200 orders/day wrote 2.05 GB of WAL, 504 MB of it Heap/LOCK records with the page images they drew
(`pg_waldump --stats=record` over the run). About 2.1 million of those 3.3 million locks were the triggers':
one for each deleted row of `journal_line`, `shipment_line`, `customer_invoice_line` and the other guarded
tables (`pg_waldump -r Heap`, counted by relation). The trigger also called PL/pgSQL and `erpops_may_purge()`
once for each deleted row.

Now UPDATE keeps its row trigger (its checks are about the row), and DELETE has a `<name>_delete` trigger
`BEFORE DELETE ... FOR EACH STATEMENT` that refuses the same way, with the same messages.

One difference: a DELETE that matches no row is now refused too (unless purging). Nothing deletes from these
tables but the archive, which purges; no foreign key cascades into them.

Revision ID: 0018_purge_guard_per_statement
Revises: 0017_audit_anchor
"""
from __future__ import annotations

from alembic import op
from sqlalchemy import text

revision = "0018_purge_guard_per_statement"
down_revision = "0017_audit_anchor"
branch_labels = None
depends_on = None

FUNCTION = """
CREATE OR REPLACE FUNCTION erpops_refuse_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF erpops_may_purge() THEN
        RETURN NULL;
    END IF;
    IF TG_ARGV[0] = 'append_only' THEN
        RAISE EXCEPTION 'erpops: % rows are append-only (DELETE refused)', TG_TABLE_NAME
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RAISE EXCEPTION 'erpops: posted % rows are never deleted; cancel them with a reversal', TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
"""

BOTH, UPDATE_ONLY = "BEFORE DELETE OR UPDATE", "BEFORE UPDATE"


def _guards(kind: str) -> list[tuple[str, str, str]]:
    """This schema's guard triggers: (table, trigger, definition); `kind` is how their timing reads."""
    rows = op.get_bind().execute(text(
        "SELECT c.relname, t.tgname, pg_get_triggerdef(t.oid) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE c.relnamespace = current_schema()::regnamespace AND NOT t.tgisinternal "
        r"AND (t.tgname LIKE '%\_append\_only' OR t.tgname LIKE '%\_frozen') ORDER BY 1"))
    return [(table, name, definition) for table, name, definition in rows if f" {kind} ON " in definition]


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(FUNCTION)
    for table, name, definition in _guards(BOTH):
        kind = "append_only" if name.endswith("_append_only") else "posted"
        op.execute(f'DROP TRIGGER "{name}" ON "{table}"')
        op.execute(definition.replace(f" {BOTH} ON ", f" {UPDATE_ONLY} ON ", 1))
        op.execute(f'CREATE TRIGGER "{name}_delete" BEFORE DELETE ON "{table}" '
                   f"FOR EACH STATEMENT EXECUTE FUNCTION erpops_refuse_delete('{kind}')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, name, definition in _guards(UPDATE_ONLY):
        op.execute(f'DROP TRIGGER IF EXISTS "{name}_delete" ON "{table}"')
        op.execute(f'DROP TRIGGER "{name}" ON "{table}"')
        op.execute(definition.replace(f" {UPDATE_ONLY} ON ", f" {BOTH} ON ", 1))
    op.execute("DROP FUNCTION IF EXISTS erpops_refuse_delete()")
