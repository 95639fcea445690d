"""PostgreSQL: audit entries are append-only, as the ledger's rows are.

The trail was tamper-evident only: `erpops audit verify` finds an entry edited, deleted or inserted (its hash
chain, 0014; the anchors of archived entries, 0017), but nothing refused the edit. Now `audit_event` has the
ledger's guards (0002, 0018): `audit_event_append_only`, `BEFORE UPDATE ... FOR EACH ROW`, refuses every update,
and `audit_event_append_only_delete`, `BEFORE DELETE ... FOR EACH STATEMENT`, refuses every delete but the
archive's purge (`erpops_may_purge()`: `erpops.allow_purge` set by a member of `erpops_archive`), which moves
old entries out with their chains' anchors. A superuser can still switch triggers off; the chain then tells.

Revision ID: 0019_audit_append_only
Revises: 0018_purge_guard_per_statement
"""
from __future__ import annotations

from alembic import op

revision = "0019_audit_append_only"
down_revision = "0018_purge_guard_per_statement"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE TRIGGER audit_event_append_only BEFORE UPDATE ON audit_event "
               "FOR EACH ROW EXECUTE FUNCTION erpops_refuse_change()")
    op.execute("CREATE TRIGGER audit_event_append_only_delete BEFORE DELETE ON audit_event "
               "FOR EACH STATEMENT EXECUTE FUNCTION erpops_refuse_delete('append_only')")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only_delete ON audit_event")
    op.execute("DROP TRIGGER IF EXISTS audit_event_append_only ON audit_event")
