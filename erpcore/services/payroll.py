"""Hire to payroll: departments, employees, the monthly payroll run and its payment; one unit of work each.

A run is one per month (unique period, and unique month and employee on its payslips): running a month that
already has a run returns that run and writes nothing, also when two runs race (the loser reads the winner's).
Sensitive fields are sealed with the ERP's keyring on the way in and opened on the way out; the rows services
return hold plain values, and the API masks them for roles that may not see them.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from erpcore.access import guarded
from erpcore.crypto import Keyring
from erpcore.domain import dates, periods
from erpcore.domain import payroll as rules
from erpcore.domain.accounts import Role
from erpcore.domain.events import PayrollPosted
from erpcore.domain.money import show_money
from erpcore.exceptions import Conflict, NotFound, ValidationFailed
from erpcore.models import Department, Employee, PayrollLine, PayrollRate, PayrollRun, PayrollRunDepartment
from erpcore.services.documents import Doc
from erpcore.services.master import _check_lengths
from erpcore.services.steps import journal
from erpcore.services.steps.periods import require_open
from erpcore.services.unit_of_work import UnitOfWork

SENSITIVE = ("salary", "bank_account", "tax_id")  # employee columns stored sealed
PAYSLIP = "payroll_line.payslip"
SOURCE = "payroll_run"


@guarded("hr.employee.write")
def create_department(uow: UnitOfWork, code: str, name: str, cost_centre: str) -> Doc:
    """Create a department with the cost centre its salaries are booked to."""
    _check_lengths({"code": code, "name": name})
    if not cost_centre.strip() or len(cost_centre) > 20:
        raise ValidationFailed("cost_centre must be 1 to 20 characters")
    with uow:
        try:
            row = uow.conn.execute(insert(Department).values(code=code, name=name, cost_centre=cost_centre)
                                   .returning(*Department.__table__.columns)).mappings().one()
            uow.commit()
        except IntegrityError as exc:
            raise Conflict(f"department {code!r} already exists") from exc
    return Doc(int(row["id"]), dict(row))


@guarded("hr.employee.write")
def hire_employee(uow: UnitOfWork, code: str, name: str, department: str, salary: Decimal,
                  hired_on: dt.date | None = None, bank_account: str | None = None,
                  tax_id: str | None = None) -> Doc:
    """Hire an employee into a department (by code) at a monthly gross salary."""
    _check_lengths({"code": code, "name": name})
    rules.check_salary(salary)
    for what, value in (("bank_account", bank_account), ("tax_id", tax_id)):
        if value is not None and (not 1 <= len(value.strip()) <= 64 or not value.isprintable()):
            raise ValidationFailed(f"{what} must be 1 to 64 printable characters")
    hired_on = uow.resources.dates.check("hired_on", hired_on or dt.date.today())
    keys = uow.resources.keyring
    with uow:
        department_id = uow.conn.scalar(select(Department.id).where(Department.code == department))
        if department_id is None:
            raise ValidationFailed(f"unknown department {department!r}")
        sealed = {"salary": str(salary), "bank_account": bank_account, "tax_id": tax_id}
        values = {k: keys.seal(v, f"employee.{k}") for k, v in sealed.items()}
        try:
            row = uow.conn.execute(insert(Employee).values(
                code=code, name=name, department_id=department_id, hired_on=hired_on, **values,
            ).returning(Employee.id)).one()
            uow.commit()
        except IntegrityError as exc:
            raise Conflict(f"employee {code!r} already exists") from exc
        return Doc(int(row.id), employee_row(uow.conn, keys, int(row.id)))


EMPLOYEES = (select(*Employee.__table__.columns, Department.code.label("department"), Department.cost_centre)
             .join(Department, Department.id == Employee.department_id))


def _open_employee(keys: Keyring, row: Any) -> dict[str, Any]:
    found = dict(row._mapping)
    for column in SENSITIVE:
        found[column] = keys.open(found[column], f"employee.{column}")
    found["salary"] = Decimal(found["salary"])
    return found


def employee_row(conn: Connection, keys: Keyring, employee_id: int) -> dict[str, Any]:
    row = conn.execute(EMPLOYEES.where(Employee.id == employee_id)).one_or_none()
    if row is None:
        raise NotFound(f"employee {employee_id} does not exist")
    return _open_employee(keys, row)


def list_employees(engine: Engine, keys: Keyring, limit: int = 500, after: int = 0) -> list[dict[str, Any]]:
    """Employees by id with their department and plain sensitive fields (callers mask them as needed)."""
    with engine.connect() as conn:
        rows = conn.execute(EMPLOYEES.where(Employee.id > after).order_by(Employee.id).limit(limit)).all()
    return [_open_employee(keys, r) for r in rows]


def _rates(conn: Connection) -> list[rules.PayrollRate]:
    rows = conn.execute(select(PayrollRate.code, PayrollRate.kind, PayrollRate.rate, PayrollRate.payable_role)
                        .order_by(PayrollRate.id)).all()
    return [rules.PayrollRate(r.code, rules.RateKind(r.kind), Decimal(str(r.rate)), Role(r.payable_role))
            for r in rows]


def _staff(conn: Connection, keys: Keyring, last_day: dt.date) -> list[rules.Employee]:
    rows = conn.execute(select(Employee.id, Employee.department_id, Employee.salary)
                        .where(Employee.hired_on <= last_day).order_by(Employee.id)).all()
    return [rules.Employee(r.id, r.department_id, Decimal(str(keys.open(r.salary, "employee.salary"))))
            for r in rows]


def run_view(conn: Connection, period: str) -> dict[str, Any] | None:
    """A run with its totals per department (code, name, cost centre), or None."""
    run = conn.execute(select(*PayrollRun.__table__.columns).where(PayrollRun.period == period)).mappings().first()
    if run is None:
        return None
    departments = conn.execute(
        select(PayrollRunDepartment.department_id, Department.code, Department.name,
               PayrollRunDepartment.cost_centre, PayrollRunDepartment.headcount,
               PayrollRunDepartment.gross_amount, PayrollRunDepartment.deduction_amount,
               PayrollRunDepartment.contribution_amount, PayrollRunDepartment.net_amount)
        .join(Department, Department.id == PayrollRunDepartment.department_id)
        .where(PayrollRunDepartment.payroll_run_id == run["id"]).order_by(Department.code)).mappings().all()
    return {**run, "departments": [dict(d) for d in departments]}


def get_run(engine: Engine, period: str) -> dict[str, Any]:
    """The run of a month (404 when it has none)."""
    name = periods.name(periods.parse(period))
    with engine.connect() as conn:
        found = run_view(conn, name)
    if found is None:
        raise NotFound(f"no payroll run for {name}: run `erpops payroll run {name}` first")
    return found


@guarded("hr.payroll.run")
def run_payroll(uow: UnitOfWork, period: str) -> Doc:
    """Run a month's payroll, posted on its last day; a month already run returns its run, writing nothing."""
    name = periods.name(periods.parse(period))
    last = periods.bounds(periods.parse(name))[1]
    uow.resources.dates.check("payroll run date", last)
    try:
        with uow:
            existing = run_view(uow.conn, name)
            if existing is not None:
                return Doc(int(existing["id"]), existing)
            require_open(uow, [last])
            rates = _rates(uow.conn)
            slips = rules.compute_run(_staff(uow.conn, uow.resources.keyring, last), rates)
            if not slips:
                raise ValidationFailed(f"no employee was employed in {name}: hire someone first")
            run_id = _write_run(uow, name, last, slips, rates)
            journal.post(uow, last, SOURCE, run_id, "post", f"Payroll {name}", rules.run_posting(slips, rates))
            total = rules.totals(slips, rates)
            uow.emit(PayrollPosted(run_id, name, total.headcount, total.net))
            found = run_view(uow.conn, name)
            uow.commit()
    except IntegrityError:  # a concurrent run of the same month committed first: answer with it
        found = get_run(uow.resources.engine, name)
    assert found is not None
    return Doc(int(found["id"]), found)


def _write_run(uow: UnitOfWork, period: str, run_date: dt.date, slips: list[rules.Payslip],
               rates: list[rules.PayrollRate]) -> int:
    conn, keys = uow.conn, uow.resources.keyring
    total = rules.totals(slips, rates)
    run_id = int(conn.execute(insert(PayrollRun).values(
        period=period, run_date=run_date, status="posted", headcount=total.headcount, gross_amount=total.gross,
        deduction_amount=total.deductions, contribution_amount=total.contributions, net_amount=total.net,
    ).returning(PayrollRun.id)).scalar_one())
    centres = {r.id: r.cost_centre for r in conn.execute(select(Department.id, Department.cost_centre))}
    conn.execute(insert(PayrollRunDepartment), [{
        "payroll_run_id": run_id, "department_id": dept, "cost_centre": centres[dept], "headcount": t.headcount,
        "gross_amount": t.gross, "deduction_amount": t.deductions, "contribution_amount": t.contributions,
        "net_amount": t.net} for dept, t in rules.by_department(slips, rates).items()])
    conn.execute(insert(PayrollLine), [{
        "payroll_run_id": run_id, "period": period, "employee_id": s.employee_id, "department_id": s.department_id,
        "payslip": keys.seal(payslip_json(s), PAYSLIP)} for s in slips])
    return run_id


def payslip_json(slip: rules.Payslip) -> str:
    return json.dumps({"gross": str(slip.gross), "deductions": {k: str(v) for k, v in slip.deductions.items()},
                       "contributions": {k: str(v) for k, v in slip.contributions.items()},
                       "net": str(slip.net)}, sort_keys=True)


@guarded("hr.payroll.pay")
def pay_payroll(uow: UnitOfWork, period: str, paid_on: dt.date | None = None) -> Doc:
    """Pay a month's run (its net, Dr payroll payable / Cr Bank), by default on the run's date; paying a
    paid run returns it, writing nothing."""
    name = periods.name(periods.parse(period))
    with uow:
        run = run_view(uow.conn, name)
        if run is None:
            raise NotFound(f"no payroll run for {name}: run `erpops payroll run {name}` first")
        if run["status"] == "paid":
            return Doc(int(run["id"]), run)
        day = uow.resources.dates.check("paid_on", paid_on or run["run_date"])
        dates.not_before("paid_on", day, f"payroll run {name}", run["run_date"])
        changed = uow.conn.execute(update(PayrollRun).where(PayrollRun.id == run["id"], PayrollRun.status == "posted")
                                   .values(status="paid", paid_on=day))
        if changed.rowcount == 1:
            net = Decimal(str(run["net_amount"]))
            journal.post(uow, day, SOURCE, int(run["id"]), "pay",
                         f"Payroll {name} paid ({show_money(net)})", rules.payment_posting(net))
        found = run_view(uow.conn, name)
        assert found is not None
        uow.commit()
    return Doc(int(found["id"]), found)


def payslips(engine: Engine, keys: Keyring, period: str) -> list[dict[str, Any]]:
    """A run's payslips (plain), by employee id: what each employee was paid and withheld."""
    name = periods.name(periods.parse(period))
    with engine.connect() as conn:
        rows = conn.execute(select(PayrollLine.employee_id, Employee.code, PayrollLine.department_id,
                                   PayrollLine.payslip).join(Employee, Employee.id == PayrollLine.employee_id)
                            .where(PayrollLine.period == name).order_by(PayrollLine.employee_id)).all()
    return [{"employee_id": r.employee_id, "employee": r.code, "department_id": r.department_id,
             **json.loads(keys.open(r.payslip, PAYSLIP) or "{}")} for r in rows]
