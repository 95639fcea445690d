"""Payroll computation as plain functions: payslips to the cent, totals per department, balanced postings."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from erpcore.domain.accounts import Role
from erpcore.domain.payroll import (
    DEFAULT_RATES,
    Employee,
    PayrollRate,
    RateKind,
    by_department,
    check_rates,
    check_salary,
    compute_run,
    payment_posting,
    payslip,
    run_posting,
    totals,
)
from erpcore.domain.postings import is_balanced
from erpcore.exceptions import ValidationFailed

RATES = [PayrollRate(code, kind, D(rate), role) for code, _name, kind, rate, role in DEFAULT_RATES]


def test_a_payslip_rounds_each_rate_to_the_cent_half_up() -> None:
    slip = payslip(Employee(1, 10, D("3333.33")), RATES)
    # 3333.33 x 0.18 = 599.9994 -> 600.00; x 0.075 = 249.99975 -> 250.00
    assert slip.deductions == {"INCOME_TAX": D("600.00"), "EE_SOCIAL": D("250.00")}
    # x 0.125 = 416.66625 -> 416.67; x 0.04 = 133.3332 -> 133.33
    assert slip.contributions == {"ER_SOCIAL": D("416.67"), "ER_PENSION": D("133.33")}
    assert slip.net == D("2483.33")
    assert slip.total_contributions == D("550.00")


def test_a_half_cent_rounds_up() -> None:
    rate = [PayrollRate("T", RateKind.DEDUCTION, D("0.5"), Role.PAYROLL_TAX_PAYABLE)]
    assert payslip(Employee(1, 1, D("0.05")), rate).deductions == {"T": D("0.03")}


def test_totals_per_department_add_up_to_the_run() -> None:
    staff = [Employee(3, 2, D("4100.00")), Employee(1, 1, D("2500.55")), Employee(2, 1, D("3333.33"))]
    slips = compute_run(staff, RATES)
    assert [s.employee_id for s in slips] == [1, 2, 3]
    depts = by_department(slips, RATES)
    assert list(depts) == [1, 2]
    assert depts[1].gross == D("5833.88") and depts[1].headcount == 2
    run = totals(slips, RATES)
    assert run.gross == D("9933.88")
    assert run.net == sum((t.net for t in depts.values()), D(0))
    assert run.gross - run.deductions == run.net
    assert run.by_payable[Role.PAYROLL_TAX_PAYABLE] == sum((s.deductions["INCOME_TAX"] for s in slips), D(0))


def test_the_run_posts_expense_per_department_and_balances() -> None:
    slips = compute_run([Employee(1, 1, D("2500.55")), Employee(2, 1, D("3333.33")),
                         Employee(3, 2, D("4100.00"))], RATES)
    lines = run_posting(slips, RATES)
    assert is_balanced(lines)
    salary = [line.debit for line in lines if line.role is Role.SALARY_EXPENSE]
    assert salary == [D("5833.88"), D("4100.00")]
    # department 1: 2500.55 -> 312.57 + 100.02; 3333.33 -> 416.67 + 133.33; department 2: 4100 -> 512.50 + 164.00
    contrib = [line.debit for line in lines if line.role is Role.CONTRIBUTION_EXPENSE]
    assert contrib == [D("962.59"), D("676.50")]
    payable = {line.role: line.credit for line in lines if line.credit}
    assert payable[Role.PAYROLL_PAYABLE] == totals(slips, RATES).net
    # income tax: 450.10 + 600.00 + 738.00; employee social: 187.54 + 250.00 + 307.50; plus all contributions
    assert payable[Role.PAYROLL_TAX_PAYABLE] == D("1788.10")
    assert payable[Role.CONTRIBUTIONS_PAYABLE] == D("745.04") + D("1639.09")


def test_paying_debits_the_payable_and_credits_the_bank() -> None:
    lines = payment_posting(D("100.10"))
    assert [(line.role, line.debit, line.credit) for line in lines] == [
        (Role.PAYROLL_PAYABLE, D("100.10"), D(0)), (Role.BANK, D(0), D("100.10"))]
    assert payment_posting(D(0)) == []


@pytest.mark.parametrize(("rates", "message"), [
    ([PayrollRate("A", RateKind.DEDUCTION, D("1"), Role.PAYROLL_TAX_PAYABLE)], "below 1"),
    ([PayrollRate("A", RateKind.DEDUCTION, D("-0.1"), Role.PAYROLL_TAX_PAYABLE)], "from 0"),
    ([PayrollRate("A", RateKind.DEDUCTION, D("0.1"), Role.BANK)], "owed to 'bank'"),
    ([PayrollRate("A", RateKind.DEDUCTION, D("0.6"), Role.PAYROLL_TAX_PAYABLE),
      PayrollRate("B", RateKind.DEDUCTION, D("0.4"), Role.CONTRIBUTIONS_PAYABLE)], "add up to 1.0"),
    ([PayrollRate("A", RateKind.DEDUCTION, D("0.1"), Role.PAYROLL_TAX_PAYABLE)] * 2, "given twice"),
])
def test_rate_sets_that_cannot_pay_anyone_are_refused(rates: list[PayrollRate], message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        check_rates(rates)


@pytest.mark.parametrize("salary", [D("0"), D("-5"), D("100.001"), D("10000000.01")])
def test_implausible_salaries_are_refused(salary: D) -> None:
    with pytest.raises(ValidationFailed):
        check_salary(salary)


def test_a_run_with_no_one_posts_nothing() -> None:
    assert run_posting([], RATES) == []
