"""The payroll summary of a month: per department gross, deductions, employer contributions and net pay.

Set-based SQL over the runs' per-department totals (no payslip is opened), rounded to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine, select

from erpcore.domain import periods
from erpcore.domain.money import ZERO, to_cents
from erpcore.exceptions import NotFound
from erpcore.models import Department, PayrollRun, PayrollRunDepartment


@dataclass(frozen=True)
class PayrollSummaryRow:
    department: str  # the department's code
    name: str
    cost_centre: str
    headcount: int
    gross: Decimal
    deductions: Decimal
    contributions: Decimal
    net: Decimal


@dataclass(frozen=True)
class PayrollSummary:
    period: str
    status: str  # posted | paid
    rows: list[PayrollSummaryRow]
    total: PayrollSummaryRow


def payroll_summary(engine: Engine, period: str) -> PayrollSummary:
    """The month's payroll by department (404 when the month has no run)."""
    name = periods.name(periods.parse(period))
    stmt = (select(Department.code, Department.name, PayrollRunDepartment.cost_centre, PayrollRunDepartment.headcount,
                   PayrollRunDepartment.gross_amount, PayrollRunDepartment.deduction_amount,
                   PayrollRunDepartment.contribution_amount, PayrollRunDepartment.net_amount, PayrollRun.status)
            .join(PayrollRun, PayrollRun.id == PayrollRunDepartment.payroll_run_id)
            .join(Department, Department.id == PayrollRunDepartment.department_id)
            .where(PayrollRun.period == name).order_by(Department.code))
    with engine.connect() as conn:
        found = conn.execute(stmt).all()
    if not found:
        raise NotFound(f"no payroll run for {name}: run `erpops payroll run {name}` first")
    rows = [PayrollSummaryRow(r.code, r.name, r.cost_centre, int(r.headcount), _cents(r.gross_amount),
                              _cents(r.deduction_amount), _cents(r.contribution_amount), _cents(r.net_amount))
            for r in found]
    total = PayrollSummaryRow("TOTAL", "All departments", "", sum(r.headcount for r in rows),
                              *(sum((getattr(r, f) for r in rows), ZERO)
                                for f in ("gross", "deductions", "contributions", "net")))
    return PayrollSummary(name, str(found[0].status), rows, total)


def _cents(value: object) -> Decimal:
    return to_cents(Decimal(str(value)))
