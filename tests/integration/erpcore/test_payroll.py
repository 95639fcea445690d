"""Hire to payroll through the services on both engines: postings to the cent against figures computed by hand,
a retried run writes nothing, payment clears the payable, closed months refuse runs, sensitive fields sealed."""

from __future__ import annotations

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from pydantic import SecretStr
from sqlalchemy import Engine, func, select, text

from erpcore.access import AccessRole, Actor
from erpcore.check import run_check
from erpcore.config import load_settings
from erpcore.crypto import MissingKey, generate_key
from erpcore.exceptions import Forbidden, NotFound, PeriodClosed, ValidationFailed
from erpcore.models import JournalEntry, PayrollLine, PayrollRun
from erpcore.reports_payroll import payroll_summary
from erpcore.services import payroll, periods
from erpcore.services.bootstrap import Erp, bootstrap
from tests.factories import tamper

FINANCE = Actor("fiona", AccessRole.FINANCE)
SALES = Actor("sam", AccessRole.SALES)
PERIOD = "2026-10"
HIRED = dt.date(2026, 9, 1)


def staff(erp: Erp) -> None:
    """Two departments, three employees: the figures of tests/unit/erpcore/test_payroll_domain.py."""
    payroll.create_department(erp.uow(FINANCE), "OPS", "Operations", "CC-100")
    payroll.create_department(erp.uow(FINANCE), "SAL", "Sales", "CC-200")
    for code, dept, salary in (("E1", "OPS", "2500.55"), ("E2", "OPS", "3333.33"), ("E3", "SAL", "4100.00")):
        payroll.hire_employee(erp.uow(FINANCE), code, f"Employee {code}", dept, D(salary), HIRED,
                              bank_account=f"DE8937040044053201{code[-1]}999", tax_id=f"TX-{code}-778899")


def ledger(engine: Engine, event: str) -> list[tuple[str, D, D]]:
    """(account code, debit, credit) of the payroll entry of `event`, by account and amount (PostgreSQL's
    set-based journal flush does not keep line order)."""
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT a.code, jl.debit, jl.credit FROM journal_line jl JOIN journal_entry je ON je.id = "
            "jl.journal_entry_id JOIN account a ON a.id = jl.account_id WHERE je.source_type = 'payroll_run' "
            "AND je.event = :event ORDER BY jl.id"), {"event": event}).all()
    return sorted((r.code, D(str(r.debit)).quantize(D("0.01")), D(str(r.credit)).quantize(D("0.01"))) for r in rows)


def test_a_run_posts_salaries_per_department_and_the_payables_to_the_cent(erp: Erp) -> None:
    staff(erp)
    run = payroll.run_payroll(erp.uow(FINANCE), PERIOD).row
    assert (run["status"], run["headcount"], run["run_date"]) == ("posted", 3, dt.date(2026, 10, 31))
    assert [D(str(run[k])) for k in ("gross_amount", "deduction_amount", "contribution_amount", "net_amount")] == [
        D("9933.88"), D("2533.14"), D("1639.09"), D("7400.74")]
    assert [(d["code"], d["cost_centre"], d["headcount"], D(str(d["net_amount"]))) for d in run["departments"]] == [
        ("OPS", "CC-100", 2, D("4346.24")), ("SAL", "CC-200", 1, D("3054.50"))]
    assert ledger(erp.engine, "post") == [
        ("2400", D("0.00"), D("7400.74")),  # net pay owed
        ("2410", D("0.00"), D("1788.10")),  # income tax withheld
        ("2420", D("0.00"), D("2384.13")),  # employee 745.04 + employer 1639.09 social contributions
        ("6400", D("4100.00"), D("0.00")),  # salaries, SAL
        ("6400", D("5833.88"), D("0.00")),  # salaries, OPS
        ("6410", D("676.50"), D("0.00")),  # employer contributions, SAL
        ("6410", D("962.59"), D("0.00")),  # employer contributions, OPS
    ]
    slips = payroll.payslips(erp.engine, erp.keyring, PERIOD)
    assert [(s["employee"], s["net"]) for s in slips] == [("E1", "1862.91"), ("E2", "2483.33"), ("E3", "3054.50")]
    assert run_check(erp.engine).ok


def test_a_retried_run_returns_the_first_and_writes_nothing(erp: Erp) -> None:
    staff(erp)
    first = payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    again = payroll.run_payroll(erp.uow(FINANCE), "2026-10 ")
    assert again.id == first.id and again.row["net_amount"] == first.row["net_amount"]
    with erp.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PayrollRun)) == 1
        assert conn.scalar(select(func.count()).select_from(PayrollLine)) == 3
        assert conn.scalar(select(func.count()).select_from(JournalEntry)) == 1


def test_paying_clears_the_payable_and_a_second_payment_writes_nothing(erp: Erp) -> None:
    staff(erp)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    paid = payroll.pay_payroll(erp.uow(FINANCE), PERIOD, dt.date(2026, 11, 2)).row
    assert (paid["status"], paid["paid_on"]) == ("paid", dt.date(2026, 11, 2))
    assert ledger(erp.engine, "pay") == [("1000", D("0.00"), D("7400.74")), ("2400", D("7400.74"), D("0.00"))]
    assert payroll.pay_payroll(erp.uow(FINANCE), PERIOD).row["paid_on"] == dt.date(2026, 11, 2)
    assert len(ledger(erp.engine, "pay")) == 2
    report = run_check(erp.engine)
    assert report.ok and {"payroll_payable_clears", "payroll_payable_matches_unpaid_runs"} <= set(report.checked)


def test_the_check_names_a_paid_run_whose_payable_does_not_clear(erp: Erp) -> None:
    staff(erp)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    with erp.engine.begin() as conn:  # paid on paper, never through the bank
        conn.execute(text("UPDATE payroll_run SET status = 'paid'"))
    failed = {v.invariant for v in run_check(erp.engine).violations}
    assert {"payroll_runs_posted", "payroll_payable_clears", "payroll_payable_matches_unpaid_runs"} <= failed


def test_a_payment_before_the_run_or_of_no_run_is_refused(erp: Erp) -> None:
    staff(erp)
    with pytest.raises(NotFound, match="no payroll run for 2026-10"):
        payroll.pay_payroll(erp.uow(FINANCE), PERIOD)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    with pytest.raises(ValidationFailed, match="before payroll run 2026-10"):
        payroll.pay_payroll(erp.uow(FINANCE), PERIOD, dt.date(2026, 10, 30))


def test_a_run_into_a_closed_month_is_refused_and_writes_nothing(erp: Erp) -> None:
    staff(erp)
    periods.close_period(erp.uow(FINANCE), PERIOD)
    with pytest.raises(PeriodClosed, match="fiscal period 2026-10 is closed"):
        payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    with erp.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(PayrollRun)) == 0


def test_only_employees_hired_by_the_month_end_are_paid_and_roles_are_enforced(erp: Erp) -> None:
    staff(erp)
    with pytest.raises(ValidationFailed, match="no employee was employed in 2026-08"):
        payroll.run_payroll(erp.uow(FINANCE), "2026-08")
    payroll.hire_employee(erp.uow(FINANCE), "E4", "Late", "SAL", D("1000.00"), dt.date(2026, 11, 1))
    assert payroll.run_payroll(erp.uow(FINANCE), PERIOD).row["headcount"] == 3
    with pytest.raises(Forbidden, match="hr.payroll.run"):
        payroll.run_payroll(erp.uow(SALES), "2026-11")
    with pytest.raises(Forbidden, match="hr.employee.write"):
        payroll.hire_employee(erp.uow(SALES), "E5", "No", "SAL", D("1000.00"))


def test_the_summary_per_department_reconciles_with_the_ledger(erp: Erp) -> None:
    staff(erp)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    summary = payroll_summary(erp.engine, PERIOD)
    assert [(r.department, r.headcount, r.gross, r.deductions, r.contributions, r.net) for r in summary.rows] == [
        ("OPS", 2, D("5833.88"), D("1487.64"), D("962.59"), D("4346.24")),
        ("SAL", 1, D("4100.00"), D("1045.50"), D("676.50"), D("3054.50"))]
    assert (summary.total.gross, summary.total.net) == (D("9933.88"), D("7400.74"))
    salaries = sum((debit for code, debit, _ in ledger(erp.engine, "post") if code == "6400"), D(0))
    assert summary.total.gross == salaries


def test_sensitive_fields_are_sealed_at_rest_and_open_with_the_key(engine: Engine) -> None:
    settings = load_settings(encryption_key=SecretStr(generate_key("k1")))
    erp = bootstrap(engine, settings)
    staff(erp)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT salary, bank_account, tax_id FROM employee")).all()
        slips = conn.execute(text("SELECT payslip FROM payroll_line")).scalars().all()
    assert all(value.startswith("v1:k1:") for row in stored for value in row)
    assert all(s.startswith("v1:k1:") for s in slips)
    listed = payroll.list_employees(engine, erp.keyring)
    assert (listed[0]["code"], listed[0]["salary"], listed[0]["tax_id"]) == ("E1", D("2500.55"), "TX-E1-778899")
    with pytest.raises(MissingKey, match="encrypted with key 'k1', which is not configured"):
        payroll.list_employees(engine, bootstrap(engine, load_settings()).keyring)



def test_the_trail_seals_what_is_sealed_at_rest_and_the_check_finds_a_value_in_clear(erp: Erp) -> None:
    staff(erp)
    payroll.run_payroll(erp.uow(FINANCE), PERIOD)
    with erp.engine.connect() as conn:
        hired = conn.execute(text("SELECT id, after FROM audit_event WHERE entity = 'hire_employee' ORDER BY id")).all()
    assert hired and all('"salary":"[sealed]"' in after and '"bank_account":"[sealed]"' in after for _, after in hired)
    only = ["audit_trail_seals_sensitive_fields"]
    assert run_check(erp.engine, only=only).ok
    leaked = hired[0].after.replace('"salary":"[sealed]"', '"salary":"2500.55"', 1)
    # what the trail held before it sealed: the salary in clear
    tamper(erp.engine, "UPDATE audit_event SET after = :a WHERE id = :i", a=leaked, i=hired[0].id)
    report = run_check(erp.engine, only=only)
    assert [(v.invariant, v.count, v.examples[0]["id"]) for v in report.violations] == [(only[0], 1, hired[0].id)]

@pytest.mark.pg
def test_two_runs_of_one_month_at_once_make_one_run(erp: Erp) -> None:
    staff(erp)
    results: list[int] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        barrier.wait()
        results.append(payroll.run_payroll(erp.uow(FINANCE), PERIOD).id)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 2 and results[0] == results[1]
    with erp.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(JournalEntry)) == 1
    assert run_check(erp.engine).ok


@pytest.mark.parametrize(("field", "value"), [("tax_id", "AB\x00CD"), ("bank_account", " "), ("tax_id", "x" * 65)])
def test_unprintable_or_oversized_sensitive_values_are_refused(erp: Erp, field: str, value: str) -> None:
    payroll.create_department(erp.uow(FINANCE), "OPS", "Operations", "CC-100")
    with pytest.raises(ValidationFailed, match=f"{field} must be 1 to 64 printable characters"):
        payroll.hire_employee(erp.uow(FINANCE), "E1", "N", "OPS", D("100.00"), HIRED, **{field: value})
    assert payroll.list_employees(erp.engine, erp.keyring) == []
