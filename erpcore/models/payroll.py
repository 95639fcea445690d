"""Hire to payroll: employees, payroll rates (data, not code), payroll runs per month and their payslips.

Salary, bank account and tax id of an employee, and each payslip, are stored as `erpcore.crypto` text
(`v1:<key id>:<nonce and ciphertext>`) when an encryption key is configured. A run keeps its totals per
department in plain numbers (what the ledger shows anyway), so reports and checks stay SQL.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Rate, Timestamped, code, intpk, money

SEALED = String(400)  # room for a sealed value: prefix, key id, nonce, ciphertext and tag in base64


class Employee(Timestamped, Base):
    __tablename__ = "employee"

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("department.id"), index=True)
    hired_on: Mapped[dt.date] = mapped_column(Date)
    salary: Mapped[str] = mapped_column(SEALED)  # monthly gross, sealed
    bank_account: Mapped[str | None] = mapped_column(SEALED)
    tax_id: Mapped[str | None] = mapped_column(SEALED)


class PayrollRate(Base):
    __tablename__ = "payroll_rate"
    __table_args__ = (
        CheckConstraint("kind IN ('deduction','contribution')", name="kind_known"),
        CheckConstraint("rate >= 0 AND rate < 1", name="rate_range"),
    )

    id: Mapped[intpk]
    code: Mapped[code]
    name: Mapped[str]
    kind: Mapped[str] = mapped_column(String(16))
    rate: Mapped[Decimal] = mapped_column(Rate)
    payable_role: Mapped[str] = mapped_column(String(40))


class PayrollRun(Timestamped, Base):
    """One month's payroll, posted on the month's last day; paid (its net to the bank) once."""

    __tablename__ = "payroll_run"
    __table_args__ = (CheckConstraint("status IN ('posted','paid')", name="status_known"),)

    id: Mapped[intpk]
    period: Mapped[str] = mapped_column(String(7), unique=True)  # YYYY-MM: one run per month
    run_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), index=True)
    headcount: Mapped[int] = mapped_column(Integer)
    gross_amount: Mapped[money]
    deduction_amount: Mapped[money]
    contribution_amount: Mapped[money]
    net_amount: Mapped[money]
    paid_on: Mapped[dt.date | None] = mapped_column(Date)


class PayrollLine(Base):
    """One employee's payslip in a run; unique per month and employee, so a retried run pays no one twice."""

    __tablename__ = "payroll_line"
    __table_args__ = (UniqueConstraint("period", "employee_id"),)

    id: Mapped[intpk]
    payroll_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("payroll_run.id"), index=True)
    period: Mapped[str] = mapped_column(String(7))
    employee_id: Mapped[int] = mapped_column(BigId, ForeignKey("employee.id"))
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("department.id"))
    payslip: Mapped[str] = mapped_column(String(2000))  # JSON (gross, deductions, contributions, net), sealed


class PayrollRunDepartment(Base):
    """A run's totals for one department and its cost centre (as the department had it at the run)."""

    __tablename__ = "payroll_run_department"

    payroll_run_id: Mapped[int] = mapped_column(BigId, ForeignKey("payroll_run.id"), primary_key=True)
    department_id: Mapped[int] = mapped_column(BigId, ForeignKey("department.id"), primary_key=True)
    cost_centre: Mapped[str] = mapped_column(String(20))
    headcount: Mapped[int] = mapped_column(Integer)
    gross_amount: Mapped[money]
    deduction_amount: Mapped[money]
    contribution_amount: Mapped[money]
    net_amount: Mapped[money]
