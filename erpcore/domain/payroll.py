"""Payroll: a month's payslips from salaries and rates, their totals per department, and what they post.

Every amount is rounded to the cent per employee and rate (half up), and net = gross - deductions exactly,
so a run's posting balances by construction: Dr salary expense (gross, one line per department) = Cr payroll
payable (net) + Cr each payable the deductions go to; Dr contribution expense (one line per department) =
Cr the payables the employer contributions go to. Paying the run: Dr payroll payable / Cr Bank.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from erpcore.domain.accounts import Role
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.postings import PostingLine, is_balanced
from erpcore.exceptions import ValidationFailed

MAX_SALARY = Decimal("10000000")  # a month's gross; above it is a typo, not a salary


class RateKind(StrEnum):
    DEDUCTION = "deduction"  # withheld from the employee's gross
    CONTRIBUTION = "contribution"  # paid by the employer on top of gross


# Where a rate's amounts may be owed: the liabilities of payroll other than the net pay itself.
PAYABLE_ROLES = frozenset({Role.PAYROLL_TAX_PAYABLE, Role.CONTRIBUTIONS_PAYABLE})


@dataclass(frozen=True)
class PayrollRate:
    code: str
    kind: RateKind
    rate: Decimal
    payable: Role


@dataclass(frozen=True)
class Employee:
    id: int
    department_id: int
    salary: Decimal  # gross per month


@dataclass(frozen=True)
class Payslip:
    employee_id: int
    department_id: int
    gross: Decimal
    deductions: dict[str, Decimal]
    contributions: dict[str, Decimal]

    @property
    def total_deductions(self) -> Decimal:
        return sum(self.deductions.values(), ZERO)

    @property
    def total_contributions(self) -> Decimal:
        return sum(self.contributions.values(), ZERO)

    @property
    def net(self) -> Decimal:
        return self.gross - self.total_deductions


@dataclass
class Totals:
    """Sums of payslips: a run's, or one department's within it."""

    headcount: int = 0
    gross: Decimal = ZERO
    deductions: Decimal = ZERO
    contributions: Decimal = ZERO
    net: Decimal = ZERO
    by_payable: dict[Role, Decimal] = field(default_factory=dict)

    def add(self, slip: Payslip, rates: dict[str, PayrollRate]) -> None:
        self.headcount += 1
        self.gross += slip.gross
        self.deductions += slip.total_deductions
        self.contributions += slip.total_contributions
        self.net += slip.net
        for code, amount in (*slip.deductions.items(), *slip.contributions.items()):
            role = rates[code].payable
            self.by_payable[role] = self.by_payable.get(role, ZERO) + amount


def check_rates(rates: Sequence[PayrollRate]) -> None:
    """Refuse (422) a rate set that cannot pay anyone: rates outside [0, 1), unknown payables, codes twice,
    or deductions taking the whole gross."""
    seen: set[str] = set()
    for r in rates:
        if r.code in seen:
            raise ValidationFailed(f"payroll rate {r.code!r} is given twice")
        seen.add(r.code)
        if not ZERO <= r.rate < 1:
            raise ValidationFailed(f"payroll rate {r.code!r} is {r.rate}; a rate is a fraction from 0 to below 1")
        if r.payable not in PAYABLE_ROLES:
            raise ValidationFailed(f"payroll rate {r.code!r} is owed to {r.payable.value!r}; one of: "
                                   + ", ".join(sorted(p.value for p in PAYABLE_ROLES)))
    withheld = sum((r.rate for r in rates if r.kind is RateKind.DEDUCTION), ZERO)
    if withheld >= 1:
        raise ValidationFailed(f"payroll deductions add up to {withheld} of gross; they must stay below 1")


def check_salary(salary: Decimal) -> Decimal:
    """A monthly gross in cents, positive and plausible (422 otherwise)."""
    if salary <= 0 or salary != to_cents(salary):
        raise ValidationFailed(f"salary {salary} must be a positive amount in cents")
    if salary > MAX_SALARY:
        raise ValidationFailed(f"salary {salary} is over the largest monthly gross ({MAX_SALARY})")
    return salary


def payslip(employee: Employee, rates: Sequence[PayrollRate]) -> Payslip:
    """One employee's month: each rate applied to gross and rounded to the cent."""
    gross = to_cents(employee.salary)
    deductions = {r.code: to_cents(gross * r.rate) for r in rates if r.kind is RateKind.DEDUCTION}
    contributions = {r.code: to_cents(gross * r.rate) for r in rates if r.kind is RateKind.CONTRIBUTION}
    return Payslip(employee.id, employee.department_id, gross, deductions, contributions)


def compute_run(employees: Iterable[Employee], rates: Sequence[PayrollRate]) -> list[Payslip]:
    """Every employee's payslip, in employee id order."""
    check_rates(rates)
    return [payslip(e, rates) for e in sorted(employees, key=lambda e: e.id)]


def totals(slips: Iterable[Payslip], rates: Sequence[PayrollRate]) -> Totals:
    by_code = {r.code: r for r in rates}
    total = Totals()
    for slip in slips:
        total.add(slip, by_code)
    return total


def by_department(slips: Iterable[Payslip], rates: Sequence[PayrollRate]) -> dict[int, Totals]:
    """Totals per department id, in department id order."""
    by_code = {r.code: r for r in rates}
    found: dict[int, Totals] = defaultdict(Totals)
    for slip in slips:
        found[slip.department_id].add(slip, by_code)
    return dict(sorted(found.items()))


def run_posting(slips: Sequence[Payslip], rates: Sequence[PayrollRate]) -> list[PostingLine]:
    """The run's entry: expenses one line per department (in department order), then the liabilities."""
    departments = by_department(slips, rates)
    total = totals(slips, rates)
    lines = [PostingLine(Role.SALARY_EXPENSE, debit=t.gross) for t in departments.values() if t.gross]
    lines += [PostingLine(Role.CONTRIBUTION_EXPENSE, debit=t.contributions)
              for t in departments.values() if t.contributions]
    if total.net:
        lines.append(PostingLine(Role.PAYROLL_PAYABLE, credit=total.net))
    lines += [PostingLine(role, credit=amount) for role, amount in sorted(total.by_payable.items()) if amount]
    if not is_balanced(lines):  # net = gross - deductions per slip: cannot happen unless the rules above change
        raise AssertionError(f"payroll posting does not balance: {lines}")
    return lines


def payment_posting(net: Decimal) -> list[PostingLine]:
    """Paying the run's net pay: Dr payroll payable / Cr Bank."""
    if net <= 0:
        return []
    return [PostingLine(Role.PAYROLL_PAYABLE, debit=net), PostingLine(Role.BANK, credit=net)]


# The rates a new database starts with (the payroll migration installs them; edit the table, not the code).
DEFAULT_RATES: tuple[tuple[str, str, RateKind, str, Role], ...] = (
    ("INCOME_TAX", "Income tax withheld", RateKind.DEDUCTION, "0.180000", Role.PAYROLL_TAX_PAYABLE),
    ("EE_SOCIAL", "Employee social security", RateKind.DEDUCTION, "0.075000", Role.CONTRIBUTIONS_PAYABLE),
    ("ER_SOCIAL", "Employer social security", RateKind.CONTRIBUTION, "0.125000", Role.CONTRIBUTIONS_PAYABLE),
    ("ER_PENSION", "Employer pension", RateKind.CONTRIBUTION, "0.040000", Role.CONTRIBUTIONS_PAYABLE),
)
