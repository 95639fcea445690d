"""Seeded hire to payroll on both engines: a run on every month end of the history, paid on the next workday
(the last one may still be open), the checks hold, sealed with the given key, and the services carry on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from pathlib import Path

from sqlalchemy import text

from erpcore.access import SYSTEM
from erpcore.check import run_check
from erpcore.crypto import Keyring, generate_key, parse_keys
from erpcore.domain import periods
from erpcore.seed import seed
from erpcore.services import keys, payroll
from erpcore.services.bootstrap import bootstrap
from tests.dbhelpers import engine_for
from tests.integration.seed.conftest import ORDERS_PER_DAY, SEED, Seeded

END = dt.date(2026, 12, 3)  # history 2026-09-05 .. 2026-12-03: month ends of September, October, November


def test_every_month_end_of_the_history_has_a_run_and_the_checks_hold(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        runs = conn.execute(text("SELECT period, run_date, status, paid_on, headcount, net_amount FROM payroll_run "
                                 "ORDER BY period")).all()
        departments = conn.execute(text("SELECT COUNT(*) FROM department")).scalar_one()
    start, end = seeded.summary.start, seeded.summary.end
    month_ends = [d for d in (start + dt.timedelta(days=n) for n in range((end - start).days + 1))
                  if (d + dt.timedelta(days=1)).day == 1]
    assert [str(r.run_date) for r in runs] == [d.isoformat() for d in month_ends]
    assert [r.period for r in runs] == [periods.name(periods.of(d)) for d in month_ends]
    assert all(r.status == "paid" for r in runs if dt.date.fromisoformat(str(r.run_date)) < end - dt.timedelta(5))
    assert all(r.headcount >= 6 and D(str(r.net_amount)) > 0 for r in runs)
    assert departments == 5
    report = run_check(seeded.engine)
    assert report.ok, report.violations
    assert {"payroll_payable_clears", "payroll_runs_add_up"} <= set(report.checked)


def test_seeded_sensitive_fields_are_sealed_and_the_services_carry_on(tmp_path: Path, backend: str) -> None:
    ring = Keyring(parse_keys(generate_key("s1"), "test"), "s1")
    with engine_for(backend, tmp_path) as engine:
        summary = seed(engine, 1, ORDERS_PER_DAY, SEED, end=END, days=90, keys=ring)
        assert summary.rows["payroll_run"] == 3 and summary.rows["employee"] >= 6
        found = keys.status(engine, ring)
        counts = {f.field: f.counts for f in found.fields}
        assert counts["employee.salary"] == {"s1": summary.rows["employee"]}
        assert counts["payroll_line.payslip"] == {"s1": summary.rows["payroll_line"]}
        erp = bootstrap(engine)
        erp._keyring = ring
        staff = payroll.list_employees(engine, ring)
        assert all(D("2200") <= e["salary"] < D("7800") for e in staff)
        payroll.hire_employee(erp.uow(SYSTEM), "NEW1", "New hire", "SAL", D("3000.00"), dt.date(2026, 12, 1))
        run = payroll.run_payroll(erp.uow(SYSTEM), "2026-12").row
        assert run["headcount"] == len(staff) + 1
        payroll.pay_payroll(erp.uow(SYSTEM), "2026-12")
        assert run_check(engine).ok


def test_the_same_seed_pays_the_same(tmp_path: Path) -> None:
    nets = []
    for n in range(2):
        with engine_for("sqlite", tmp_path / str(n)) as engine:
            seed(engine, 1, ORDERS_PER_DAY, SEED, end=END, days=90, keys=Keyring())
            with engine.connect() as conn:
                nets.append(conn.execute(text("SELECT period, net_amount FROM payroll_run ORDER BY id")).all())
    assert nets[0] == nets[1] and len(nets[0]) == 3
