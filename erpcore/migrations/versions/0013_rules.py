"""Controls as data: budgets, approval rules, control settings, approval requests and decisions, rule blocks;
purchase orders carry their department; orders and supplier invoices their creator; items a category.

Revision ID: 0013_rules
Revises: 0012_returns
"""
from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

revision = "0013_rules"
down_revision = "0012_returns"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
Amount = sa.Numeric(18, 4, asdecimal=True)
Stamp = sa.DateTime(timezone=True)


def _created_at() -> sa.Column[object]:
    return sa.Column("created_at", Stamp, nullable=False, server_default=sa.func.now())


def upgrade() -> None:
    op.create_table(
        "budget",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("department_id", BigId, sa.ForeignKey("department.id", name="fk_budget_department_id_department"),
                  nullable=False),
        sa.Column("account_id", BigId, sa.ForeignKey("account.id", name="fk_budget_account_id_account"),
                  nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("amount", Amount, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.UniqueConstraint("department_id", "account_id", "period", name="uq_budget_department_id_account_id_period"),
        sa.CheckConstraint("amount >= 0", name="ck_budget_amount_positive"),
    )
    op.create_table(
        "approval_rule",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("code", sa.String(60), nullable=False),
        sa.Column("document_type", sa.String(24), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("conditions", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("description", sa.String(200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.UniqueConstraint("code", name="uq_approval_rule_code"),
    )
    op.create_index("ix_approval_rule_document_type", "approval_rule", ["document_type"])
    op.create_table(
        "control_setting",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("mode", sa.String(8), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.Column("updated_by", sa.String(80), nullable=False),
        sa.CheckConstraint("mode IN ('stop','warn','off')", name="ck_control_setting_mode_known"),
    )
    version = op.create_table(
        "rulebook_version",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("epoch", sa.String(32), nullable=False),
        sa.Column("version", BigId, nullable=False),
    )
    op.bulk_insert(version, [{"id": 1, "epoch": uuid.uuid4().hex, "version": 1}])
    op.create_table(
        "approval_request",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("document_type", sa.String(24), nullable=False),
        sa.Column("document_id", BigId, nullable=False),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("submitted_by", sa.String(80), nullable=False),
        sa.Column("decided_at", Stamp, nullable=True),
        _created_at(),
    )
    op.create_index("ix_approval_request_document", "approval_request", ["document_type", "document_id"])
    op.create_table(
        "approval",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("request_id", BigId, sa.ForeignKey("approval_request.id",
                                                     name="fk_approval_request_id_approval_request"),
                  nullable=False),
        sa.Column("step_no", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("decision", sa.String(8), nullable=False),
        sa.Column("comment", sa.String(400), nullable=False),
        _created_at(),
        sa.CheckConstraint("decision IN ('approve','reject')", name="ck_approval_decision_known"),
    )
    op.create_index("ix_approval_request_id", "approval", ["request_id"])
    op.create_table(
        "rule_block",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("action", sa.String(60), nullable=False),
        sa.Column("document_type", sa.String(24), nullable=False),
        sa.Column("document_id", BigId, nullable=True),
        sa.Column("rule", sa.String(60), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("message", sa.String(400), nullable=False),
        _created_at(),
        sa.CheckConstraint("outcome IN ('blocked','warned')", name="ck_rule_block_outcome_known"),
    )
    op.create_index("ix_rule_block_rule", "rule_block", ["rule"])
    with op.batch_alter_table("purchase_order") as batch:
        batch.add_column(sa.Column("department_id", BigId, nullable=True))
        batch.add_column(sa.Column("created_by", sa.String(80), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        op.create_foreign_key("fk_purchase_order_department_id_department", "purchase_order", "department",
                              ["department_id"], ["id"])
    op.add_column("sales_order", sa.Column("created_by", sa.String(80), nullable=True))
    op.add_column("supplier_invoice", sa.Column("created_by", sa.String(80), nullable=True))
    op.add_column("item", sa.Column("category", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("item", "category")
    op.drop_column("supplier_invoice", "created_by")
    op.drop_column("sales_order", "created_by")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint("fk_purchase_order_department_id_department", "purchase_order", type_="foreignkey")
    with op.batch_alter_table("purchase_order") as batch:
        batch.drop_column("created_by")
        batch.drop_column("department_id")
    for table in ("rule_block", "approval", "approval_request", "rulebook_version", "control_setting",
                  "approval_rule", "budget"):
        op.drop_table(table)
