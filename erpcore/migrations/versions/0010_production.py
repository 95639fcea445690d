"""Plan-to-produce: bills of materials, work orders and their component lines, shipping instructions, and the
work-in-progress and production variance accounts.

Revision ID: 0010_production
Revises: 0007_departments
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.domain.accounts import PRODUCTION_ACCOUNTS

revision = "0010_production"
down_revision = "0007_departments"
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
AMOUNT = sa.Numeric(18, 4)


def _fk(table: str, column: str, target: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint([column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}")


def _created() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "bill_of_materials",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("item_id", ID, nullable=False),
        _created(),
        _fk("bill_of_materials", "item_id", "item"),
        sa.UniqueConstraint("item_id", name="uq_bill_of_materials_item_id"),
    )
    op.create_table(
        "bom_line",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("bom_id", ID, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("component_id", ID, nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("scrap_factor", AMOUNT, nullable=False),
        _fk("bom_line", "bom_id", "bill_of_materials"),
        _fk("bom_line", "component_id", "item"),
        sa.UniqueConstraint("bom_id", "line_no", name="uq_bom_line_bom_id_line_no"),
        sa.UniqueConstraint("bom_id", "component_id", name="uq_bom_line_bom_id_component_id"),
        sa.CheckConstraint("quantity > 0", name="ck_bom_line_quantity_positive"),
        sa.CheckConstraint("scrap_factor >= 0 AND scrap_factor < 1", name="ck_bom_line_scrap_range"),
    )
    op.create_index("ix_bom_line_component_id", "bom_line", ["component_id"])
    op.create_table(
        "work_order",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(40), nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("warehouse_id", ID, nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(24), nullable=False),
        sa.Column("sales_order_line_id", ID, nullable=True),
        sa.Column("parent_id", ID, nullable=True),
        sa.Column("planned_cost", AMOUNT, nullable=False),
        sa.Column("issued_cost", AMOUNT, nullable=False),
        sa.Column("qty_received", AMOUNT, nullable=False),
        sa.Column("received_cost", AMOUNT, nullable=False),
        sa.Column("variance_amount", AMOUNT, nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("issue_date", sa.Date(), nullable=True),
        sa.Column("receipt_date", sa.Date(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        _created(),
        _fk("work_order", "item_id", "item"),
        _fk("work_order", "warehouse_id", "warehouse"),
        _fk("work_order", "sales_order_line_id", "sales_order_line"),
        _fk("work_order", "parent_id", "work_order"),
        sa.UniqueConstraint("number", name="uq_work_order_number"),
        sa.CheckConstraint("quantity > 0", name="ck_work_order_quantity_positive"),
        sa.CheckConstraint("qty_received >= 0 AND qty_received <= quantity", name="ck_work_order_received_within"),
    )
    op.create_index("ix_work_order_item_id", "work_order", ["item_id"])
    op.create_index("ix_work_order_status", "work_order", ["status"])
    op.create_index("ix_work_order_planned_date", "work_order", ["planned_date"])
    op.create_index("ix_work_order_sales_order_line_id", "work_order", ["sales_order_line_id"])
    op.create_index("ix_work_order_parent_id", "work_order", ["parent_id"])
    op.create_table(
        "work_order_line",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("work_order_id", ID, nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("item_id", ID, nullable=False),
        sa.Column("quantity", AMOUNT, nullable=False),
        sa.Column("planned_unit_cost", AMOUNT, nullable=False),
        sa.Column("planned_cost", AMOUNT, nullable=False),
        sa.Column("qty_reserved", AMOUNT, nullable=False),
        sa.Column("qty_issued", AMOUNT, nullable=False),
        sa.Column("issued_cost", AMOUNT, nullable=False),
        _fk("work_order_line", "work_order_id", "work_order"),
        _fk("work_order_line", "item_id", "item"),
        sa.UniqueConstraint("work_order_id", "line_no", name="uq_work_order_line_work_order_id_line_no"),
        sa.CheckConstraint("quantity > 0", name="ck_work_order_line_quantity_positive"),
        sa.CheckConstraint("qty_reserved >= 0 AND qty_issued >= 0", name="ck_work_order_line_derived_positive"),
    )
    op.create_index("ix_work_order_line_item_id", "work_order_line", ["item_id"])
    op.create_table(
        "shipping_instruction",
        sa.Column("id", ID, primary_key=True, autoincrement=True),
        sa.Column("sales_order_id", ID, nullable=False),
        sa.Column("warehouse_id", ID, nullable=False),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        _created(),
        _fk("shipping_instruction", "sales_order_id", "sales_order"),
        _fk("shipping_instruction", "warehouse_id", "warehouse"),
        sa.UniqueConstraint("sales_order_id", name="uq_shipping_instruction_sales_order_id"),
    )
    op.create_index("ix_shipping_instruction_status", "shipping_instruction", ["status"])
    account = sa.table("account", sa.column("code"), sa.column("name"), sa.column("type"), sa.column("role"))
    op.bulk_insert(account, [{"code": a.code, "name": a.name, "type": a.type.value,
                              "role": a.role.value if a.role else None} for a in PRODUCTION_ACCOUNTS])


def downgrade() -> None:
    roles = ", ".join(f"'{a.role.value}'" for a in PRODUCTION_ACCOUNTS if a.role)
    op.execute(f"DELETE FROM account WHERE role IN ({roles})")
    op.drop_table("shipping_instruction")
    op.drop_table("work_order_line")
    op.drop_table("work_order")
    op.drop_table("bom_line")
    op.drop_table("bill_of_materials")
