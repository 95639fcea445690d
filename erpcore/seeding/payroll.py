"""Seeded hire to payroll: a handful of departments, staff hired over the history, a payroll run on every
month's last day and its payment on the next working day, following `erpcore.domain.payroll`.

Its own random stream (derived from the simulation's) keeps the rest of the seeded history unchanged. The
rates are the ones the payroll migration installs (`DEFAULT_RATES`): the seed runs on a fresh database.
Salary, bank account, tax id and payslips are sealed with the keyring the seed is given, as services seal them.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from erpcore.crypto import Keyring
from erpcore.domain import payroll as rules
from erpcore.domain.periods import name as period_name
from erpcore.seeding import ledger
from erpcore.seeding.context import Context, iso, workday_on_or_after
from erpcore.services.payroll import PAYSLIP, payslip_json

DEPARTMENTS = (("ADM", "Administration", "CC-100"), ("SAL", "Sales", "CC-200"), ("PUR", "Purchasing", "CC-300"),
               ("WHS", "Warehouse", "CC-400"), ("FIN", "Finance", "CC-500"))
RATES = [rules.PayrollRate(code, kind, Decimal(rate), role) for code, _n, kind, rate, role in rules.DEFAULT_RATES]
LATER_HIRES = 0.4  # staff hired during the history, as a share of those there from the start


@dataclass
class PendingRun:
    """A run posted and not yet paid: written when paid, or as posted when history ends."""

    id: int
    period: str
    run_date: str
    totals: rules.Totals
    pay_on: int  # ordinal
    created: str


@dataclass
class Staff:
    rng: random.Random
    keys: Keyring
    employees: list[rules.Employee] = field(default_factory=list)
    hires: dict[int, list[rules.Employee]] = field(default_factory=dict)  # ordinal -> hired that day
    unpaid: list[PendingRun] = field(default_factory=list)


def headcount(orders_per_day: int) -> int:
    """Staff on the first day for a company of this volume."""
    return max(6, min(120, orders_per_day // 2 + 6))


def hire(ctx: Context, keys: Keyring, orders_per_day: int) -> Staff:
    """Departments, the first day's staff, and the days the later hires join (call on the first day)."""
    staff = Staff(random.Random(f"payroll:{ctx.rng.getstate()[1][:8]}"), keys)
    created = f"{ctx.today} 06:00:00{ctx.sink.timestamp_suffix}"
    for code, name, centre in DEPARTMENTS:
        ctx.sink.rows["department"].append((ctx.ids["department"](), code, name, centre))
    first = headcount(orders_per_day)
    for _ in range(first):
        _employ(ctx, staff, ctx.start, created)
    for _ in range(int(first * LATER_HIRES)):
        day = staff.rng.randint(ctx.start + 1, ctx.end)
        staff.hires.setdefault(day, []).append(_new_employee(ctx, staff))
    return staff


def _new_employee(ctx: Context, staff: Staff) -> rules.Employee:
    salary = Decimal(staff.rng.randrange(220_000, 780_000)).scaleb(-2)  # a monthly gross in cents
    return rules.Employee(ctx.ids["employee"](), staff.rng.randrange(len(DEPARTMENTS)) + 1, salary)


def _employ(ctx: Context, staff: Staff, day: int, created: str, employee: rules.Employee | None = None) -> None:
    e = employee or _new_employee(ctx, staff)
    seal = staff.keys.seal
    bank = f"DE{staff.rng.randrange(10**19, 10**20)}"
    tax = f"TX{staff.rng.randrange(10**9, 10**10)}"
    ctx.sink.rows["employee"].append((
        e.id, f"E{e.id:05d}", f"Employee {e.id}", e.department_id, iso(day), seal(str(e.salary), "employee.salary"),
        seal(bank, "employee.bank_account"), seal(tax, "employee.tax_id"), created))
    staff.employees.append(e)


def work(ctx: Context, staff: Staff) -> None:
    """Today's hires, payments due, and the month's run when today is its last day."""
    for employee in staff.hires.pop(ctx.day, []):
        _employ(ctx, staff, ctx.day, ctx.stamp(), employee)
    while staff.unpaid and staff.unpaid[0].pay_on == ctx.day:
        _pay(ctx, staff.unpaid.pop(0))
    today = dt.date.fromordinal(ctx.day)
    if (today + dt.timedelta(days=1)).day == 1:
        _run(ctx, staff, period_name((today.year, today.month)))


def _run(ctx: Context, staff: Staff, period: str) -> None:
    """payroll.run_payroll on the month's last day (before its close, at 18:00)."""
    slips = rules.compute_run(staff.employees, RATES)
    run_id = ctx.ids["payroll_run"]()
    created = f"{ctx.today} 18:00:00{ctx.sink.timestamp_suffix}"
    lines, departments = ctx.sink.rows["payroll_line"], ctx.sink.rows["payroll_run_department"]
    for slip in slips:
        lines.append((ctx.ids["payroll_line"](), run_id, period, slip.employee_id, slip.department_id,
                      staff.keys.seal(payslip_json(slip), PAYSLIP)))
    for dept, t in rules.by_department(slips, RATES).items():
        departments.append((run_id, dept, DEPARTMENTS[dept - 1][2], t.headcount, str(t.gross), str(t.deductions),
                            str(t.contributions), str(t.net)))
    ledger.post(ctx, "payroll_run", run_id, f"Payroll {period}", rules.run_posting(slips, RATES), created)
    staff.unpaid.append(PendingRun(run_id, period, ctx.today, rules.totals(slips, RATES),
                                   workday_on_or_after(ctx.day + 1), created))


def _pay(ctx: Context, run: PendingRun) -> None:
    """payroll.pay_payroll on the next working day: Dr payroll payable / Cr Bank."""
    net = run.totals.net
    ledger.post(ctx, "payroll_run", run.id, f"Payroll {run.period} paid ({net})", rules.payment_posting(net),
                ctx.stamp(), event="pay")
    _write_run(ctx, run, ctx.today)
    cents = int(net.scaleb(2))
    ctx.bank -= cents
    ctx.lowest_bank = min(ctx.lowest_bank, ctx.bank)


def _write_run(ctx: Context, run: PendingRun, paid_on: str | None) -> None:
    t = run.totals
    ctx.sink.rows["payroll_run"].append((
        run.id, run.period, run.run_date, "paid" if paid_on else "posted", t.headcount, str(t.gross),
        str(t.deductions), str(t.contributions), str(t.net), paid_on, run.created))


def finish(ctx: Context, staff: Staff) -> None:
    """Write the runs still unpaid when history ends."""
    for run in staff.unpaid:
        _write_run(ctx, run, None)
    staff.unpaid.clear()

