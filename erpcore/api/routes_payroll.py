"""Hire to payroll: departments, employees, monthly payroll runs and their payment, the payroll summary.

Salary, bank account and tax id are shown only to roles holding `hr.employee.reveal`; others see them masked
(`erpcore.api.sensitive`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from erpcore.access import Actor
from erpcore.api import sensitive
from erpcore.api.auth import require
from erpcore.api.deps import MAX_ID, ErpDep, IdPath, offloaded, writer
from erpcore.api.schemas import Code, Date, In, Name
from erpcore.api.strict import StrictJsonRoute
from erpcore.services import payroll
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["payroll"], route_class=StrictJsonRoute)
HrReader = Annotated[Actor, Depends(require("hr.read"))]
ForDepartment = Annotated[UnitOfWork, Depends(writer(payroll.create_department, None))]
ForHire = Annotated[UnitOfWork, Depends(writer(payroll.hire_employee, None))]
ForRun = Annotated[UnitOfWork, Depends(writer(payroll.run_payroll, None))]
ForPay = Annotated[UnitOfWork, Depends(writer(payroll.pay_payroll, None))]
PeriodPath = Annotated[str, Path(pattern=r"^\d{4}-\d{2}$", description="the month, YYYY-MM")]
Secret = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ./-]+$")]
Salary = Annotated[Decimal, Field(gt=0, max_digits=12, decimal_places=2)]


class DepartmentIn(In):
    code: Code
    name: Name
    cost_centre: Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[A-Za-z0-9._-]+$")]


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    cost_centre: str


class EmployeeIn(In):
    code: Code
    name: Name
    department: Code
    salary: Salary
    hired_on: Date | None = None
    bank_account: Secret | None = None
    tax_id: Secret | None = None


class EmployeeOut(BaseModel):
    id: int
    code: str
    name: str
    department: str
    cost_centre: str
    hired_on: dt.date
    salary: str  # the monthly gross, or "****" for roles that may not see it
    bank_account: str | None
    tax_id: str | None


class PayrollRunDepartmentOut(BaseModel):
    department_id: int
    code: str
    name: str
    cost_centre: str
    headcount: int
    gross_amount: Decimal
    deduction_amount: Decimal
    contribution_amount: Decimal
    net_amount: Decimal


class PayrollRunOut(BaseModel):
    id: int
    period: str
    run_date: dt.date
    status: str
    headcount: int
    gross_amount: Decimal
    deduction_amount: Decimal
    contribution_amount: Decimal
    net_amount: Decimal
    paid_on: dt.date | None
    departments: list[PayrollRunDepartmentOut]


class PayrollPayIn(In):
    paid_on: Date | None = None


@router.post("/payroll/departments", status_code=201, response_model=DepartmentOut)
@offloaded
def create_department(body: DepartmentIn, uow: ForDepartment) -> dict[str, Any]:
    """Create a department with the cost centre its salaries are booked to."""
    return payroll.create_department(uow, body.code, body.name, body.cost_centre).row


@router.post("/employees", status_code=201, response_model=EmployeeOut)
@offloaded
def hire_employee(body: EmployeeIn, uow: ForHire) -> dict[str, Any]:
    """Hire an employee into a department (by code) at a monthly gross salary."""
    return sensitive.employee(payroll.hire_employee(uow, **body.model_dump()).row, uow.actor)


@router.get("/employees", response_model=list[EmployeeOut])
def list_employees(erp: ErpDep, actor: HrReader,
                   after: Annotated[int, Query(ge=0, le=MAX_ID, description="only ids greater than this")] = 0,
                   limit: Annotated[int, Query(ge=1, le=500)] = 100) -> list[dict[str, Any]]:
    """Employees by id; sensitive fields masked unless the role may see them."""
    return [sensitive.employee(row, actor) for row in payroll.list_employees(erp.engine, erp.keyring, limit, after)]


@router.get("/employees/{employee_id}", response_model=EmployeeOut)
def get_employee(employee_id: IdPath, erp: ErpDep, actor: HrReader) -> dict[str, Any]:
    """One employee; sensitive fields masked unless the role may see them."""
    with erp.engine.connect() as conn:
        return sensitive.employee(payroll.employee_row(conn, erp.keyring, employee_id), actor)


@router.post("/payroll/runs/{period}", status_code=201, response_model=PayrollRunOut)
@offloaded
def run_payroll(period: PeriodPath, uow: ForRun) -> dict[str, Any]:
    """Run a month's payroll (posted on its last day); a month already run answers with its run."""
    return payroll.run_payroll(uow, period).row


@router.get("/payroll/runs/{period}", response_model=PayrollRunOut)
def get_payroll_run(period: PeriodPath, erp: ErpDep, _: HrReader) -> dict[str, Any]:
    """A month's run with its totals per department."""
    return payroll.get_run(erp.engine, period)


@router.post("/payroll/runs/{period}/pay", response_model=PayrollRunOut)
@offloaded
def pay_payroll(period: PeriodPath, uow: ForPay, body: PayrollPayIn | None = None) -> dict[str, Any]:
    """Pay a month's run (its net pay from the bank), by default on the run's date; a paid run answers as is."""
    return payroll.pay_payroll(uow, period, (body or PayrollPayIn()).paid_on).row
