"""Hire to payroll: employees, payroll rates, runs, payslips and per-department totals; the payroll accounts
and default rates; a tax id on suppliers (customers have one). Sensitive columns hold sealed text.

Revision ID: 0011_payroll
Revises: 0010_production
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from erpcore.domain.accounts import PAYROLL_CHART
from erpcore.domain.payroll import DEFAULT_RATES

revision = "0011_payroll"
down_revision = "0010_production"
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
MONEY = sa.Numeric(18, 4)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", BIG, primary_key=True)


def _amounts() -> list[sa.Column]:  # type: ignore[type-arg]
    return [sa.Column(name, MONEY, nullable=False)
            for name in ("gross_amount", "deduction_amount", "contribution_amount", "net_amount")]


def upgrade() -> None:
    op.create_table(
        "employee", _id(),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("department_id", BIG, sa.ForeignKey("department.id", name="fk_employee_department_id_department"),
                  nullable=False),
        sa.Column("hired_on", sa.Date(), nullable=False),
        sa.Column("salary", sa.String(400), nullable=False),
        sa.Column("bank_account", sa.String(400), nullable=True),
        sa.Column("tax_id", sa.String(400), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("code", name="uq_employee_code"),
    )
    op.create_index("ix_employee_department_id", "employee", ["department_id"])
    op.create_table(
        "payroll_rate", _id(),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rate", sa.Numeric(9, 6), nullable=False),
        sa.Column("payable_role", sa.String(40), nullable=False),
        sa.UniqueConstraint("code", name="uq_payroll_rate_code"),
        sa.CheckConstraint("kind IN ('deduction','contribution')", name="ck_payroll_rate_kind_known"),
        sa.CheckConstraint("rate >= 0 AND rate < 1", name="ck_payroll_rate_rate_range"),
    )
    op.create_table(
        "payroll_run", _id(),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("run_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        *_amounts(),
        sa.Column("paid_on", sa.Date(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("period", name="uq_payroll_run_period"),
        sa.CheckConstraint("status IN ('posted','paid')", name="ck_payroll_run_status_known"),
    )
    op.create_index("ix_payroll_run_status", "payroll_run", ["status"])
    op.create_table(
        "payroll_line", _id(),
        sa.Column("payroll_run_id", BIG, sa.ForeignKey("payroll_run.id",
                                                       name="fk_payroll_line_payroll_run_id_payroll_run"),
                  nullable=False),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("employee_id", BIG, sa.ForeignKey("employee.id", name="fk_payroll_line_employee_id_employee"),
                  nullable=False),
        sa.Column("department_id", BIG, sa.ForeignKey("department.id",
                                                      name="fk_payroll_line_department_id_department"),
                  nullable=False),
        sa.Column("payslip", sa.String(2000), nullable=False),
        sa.UniqueConstraint("period", "employee_id", name="uq_payroll_line_period_employee_id"),
    )
    op.create_index("ix_payroll_line_payroll_run_id", "payroll_line", ["payroll_run_id"])
    op.create_table(
        "payroll_run_department",
        sa.Column("payroll_run_id", BIG, sa.ForeignKey(
            "payroll_run.id", name="fk_payroll_run_department_payroll_run_id_payroll_run"), primary_key=True),
        sa.Column("department_id", BIG, sa.ForeignKey(
            "department.id", name="fk_payroll_run_department_department_id_department"), primary_key=True),
        sa.Column("cost_centre", sa.String(20), nullable=False),
        sa.Column("headcount", sa.Integer(), nullable=False),
        *_amounts(),
    )
    with op.batch_alter_table("supplier") as batch:
        batch.add_column(sa.Column("tax_id", sa.String(400), nullable=True))
    account = sa.table("account", sa.column("code"), sa.column("name"), sa.column("type"), sa.column("role"))
    op.bulk_insert(account, [{"code": a.code, "name": a.name, "type": a.type.value,
                              "role": a.role.value if a.role else None} for a in PAYROLL_CHART])
    rate = sa.table("payroll_rate", sa.column("code"), sa.column("name"), sa.column("kind"), sa.column("rate"),
                    sa.column("payable_role"))
    op.bulk_insert(rate, [{"code": c, "name": n, "kind": k.value, "rate": r, "payable_role": role.value}
                          for c, n, k, r, role in DEFAULT_RATES])


def downgrade() -> None:
    codes = ", ".join(f"'{a.code}'" for a in PAYROLL_CHART)
    op.execute(f"DELETE FROM account WHERE code IN ({codes})")
    with op.batch_alter_table("supplier") as batch:
        batch.drop_column("tax_id")
    for table in ("payroll_run_department", "payroll_line", "payroll_run", "payroll_rate", "employee"):
        op.drop_table(table)
