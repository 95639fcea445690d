"""Hire to payroll over HTTP on both engines: departments, employees, a run posted to the cent, a retried run,
the payment, the summary; roles, masking of sensitive fields, hostile input and closed months."""

from __future__ import annotations

from decimal import Decimal as D

from sqlalchemy import text

from erpcore.check import run_check
from tests.e2e.api.conftest import Api

PERIOD = "2026-10"


def _staff(api: Api) -> None:
    for code, name, centre in (("OPS", "Operations", "CC-100"), ("SAL", "Sales", "CC-200")):
        api.ok(api.post("/payroll/departments", {"code": code, "name": name, "cost_centre": centre},
                        role="finance"), 201)
    for code, dept, salary in (("E1", "OPS", "2500.55"), ("E2", "OPS", "3333.33"), ("E3", "SAL", "4100.00")):
        api.ok(api.post("/employees", {"code": code, "name": f"Employee {code}", "department": dept,
                                       "salary": salary, "hired_on": "2026-09-01",
                                       "bank_account": f"DE89 3704 0044 0532 0130 0{code[-1]}",
                                       "tax_id": f"TX-{code}-778899"}, role="finance"), 201)


def _rows(api: Api, table: str) -> int:
    with api.erp.engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def test_hire_run_pay_and_summarise_over_http(api: Api) -> None:
    _staff(api)
    run = api.ok(api.post(f"/payroll/runs/{PERIOD}", role="finance"), 201)
    assert (D(run["gross_amount"]), D(run["net_amount"]), run["status"]) == (D("9933.88"), D("7400.74"), "posted")
    assert [(d["code"], d["cost_centre"], D(d["gross_amount"])) for d in run["departments"]] == [
        ("OPS", "CC-100", D("5833.88")), ("SAL", "CC-200", D("4100.00"))]
    again = api.ok(api.post(f"/payroll/runs/{PERIOD}", role="finance"), 201)
    assert again["id"] == run["id"] and _rows(api, "payroll_run") == 1 and _rows(api, "journal_entry") == 1
    paid = api.ok(api.post(f"/payroll/runs/{PERIOD}/pay", {"paid_on": "2026-11-02"}, role="finance"))
    assert (paid["status"], paid["paid_on"]) == ("paid", "2026-11-02")
    assert api.ok(api.get(f"/payroll/runs/{PERIOD}", role="viewer"))["status"] == "paid"
    summary = api.ok(api.get("/reports/payroll-summary", role="finance", period=PERIOD))
    assert [(r["department"], D(r["deductions"]), D(r["contributions"]), D(r["net"])) for r in summary["rows"]] == [
        ("OPS", D("1487.64"), D("962.59"), D("4346.24")), ("SAL", D("1045.50"), D("676.50"), D("3054.50"))]
    assert D(summary["total"]["net"]) == D("7400.74")
    with api.erp.engine.connect() as conn:
        bank = conn.execute(text("SELECT SUM(jl.credit) FROM journal_line jl JOIN account a ON a.id = jl.account_id "
                                 "WHERE a.role = 'bank'")).scalar_one()
    assert D(str(bank)).quantize(D("0.01")) == D("7400.74")
    assert run_check(api.erp.engine).ok


def test_sensitive_fields_are_masked_for_roles_that_may_not_see_them(api: Api) -> None:
    _staff(api)
    finance = api.ok(api.get("/employees", role="finance"))
    assert (finance[0]["salary"], finance[0]["tax_id"]) == ("2500.55", "TX-E1-778899")
    viewer = api.ok(api.get("/employees", role="viewer"))
    assert (viewer[0]["salary"], viewer[0]["bank_account"], viewer[0]["tax_id"]) == ("****", "****0 01", "****8899")
    one = api.ok(api.get(f"/employees/{viewer[2]['id']}", role="viewer"))
    assert one["code"] == "E3" and one["salary"] == "****"
    assert api.get("/employees/999999", role="finance").status_code == 404
    assert api.get("/employees", role="sales").status_code == 403
    assert api.get("/employees", role=None).status_code == 401


def test_roles_without_the_permission_are_refused_and_write_nothing(api: Api) -> None:
    _staff(api)
    assert api.post(f"/payroll/runs/{PERIOD}", role="sales").status_code == 403
    assert api.post(f"/payroll/runs/{PERIOD}", role="viewer").status_code == 403
    assert api.post("/employees", {"code": "X", "name": "X", "department": "OPS", "salary": "1"},
                    role="warehouse").status_code == 403
    api.ok(api.post(f"/payroll/runs/{PERIOD}", role="finance"), 201)
    assert api.post(f"/payroll/runs/{PERIOD}/pay", role="purchasing").status_code == 403
    assert _rows(api, "payroll_run") == 1 and _rows(api, "employee") == 3


def test_hostile_input_is_refused_with_4xx_and_writes_nothing(api: Api) -> None:
    _staff(api)
    base = {"code": "E9", "name": "N", "department": "OPS", "salary": "1000.00"}
    for bad in ({"salary": "1000.001"}, {"salary": "-5"}, {"salary": "1e30"}, {"department": "NOPE"},
                {"bank_account": "x" * 65}, {"tax_id": "<script>"}, {"hired_on": "1900-01-01"}, {"extra": 1},
                {"salary": None}):
        response = api.post("/employees", {**base, **bad}, role="finance")
        assert response.status_code == 422, (bad, response.text)
    assert api.post("/employees", {**base, "code": "E1"}, role="finance").status_code == 409
    assert api.post("/payroll/departments", {"code": "OPS", "name": "x", "cost_centre": "C"},
                    role="finance").status_code == 409
    for period in ("2026-13", "26-10", "2026-00"):
        assert api.post(f"/payroll/runs/{period}", role="finance").status_code in (404, 422), period
    assert api.get("/reports/payroll-summary", role="finance", period="2026-10").status_code == 404
    assert api.post(f"/payroll/runs/{PERIOD}/pay", role="finance").status_code == 404
    assert _rows(api, "employee") == 3 and _rows(api, "payroll_run") == 0 and _rows(api, "journal_entry") == 0


def test_a_run_into_a_closed_month_gets_409_naming_it(api: Api) -> None:
    _staff(api)
    api.ok(api.post(f"/periods/{PERIOD}/close", role="finance"))
    refused = api.post(f"/payroll/runs/{PERIOD}", role="finance")
    assert refused.status_code == 409 and "fiscal period 2026-10 is closed" in refused.text
    assert _rows(api, "payroll_run") == 0


def test_partner_tax_ids_are_shown_to_finance_and_masked_for_others(api: Api) -> None:
    customer = api.ok(api.post("/customers", {"code": "C1", "name": "Customer", "tax_id": "GB918273645"},
                               role="sales"), 201)
    assert customer["tax_id"] == "****3645"  # sales may create the customer, not read its tax id back
    supplier = api.ok(api.post("/suppliers", {"code": "S1", "name": "Supplier", "tax_id": "DE564738291"}), 201)
    assert supplier["tax_id"] == "DE564738291"  # admin
    assert api.ok(api.get(f"/customers/{customer['id']}", role="finance"))["tax_id"] == "GB918273645"
    assert api.ok(api.get("/customers", role="sales"))["items"][0]["tax_id"] == "****3645"
    assert api.ok(api.get(f"/suppliers/{supplier['id']}", role="purchasing"))["tax_id"] == "****8291"
    assert api.ok(api.get("/suppliers", role="finance"))["items"][0]["tax_id"] == "DE564738291"
    bad = api.post("/customers", {"code": "C2", "name": "X", "tax_id": "<b>"}, role="sales")
    assert bad.status_code == 422


def test_sealed_data_without_its_key_is_one_clear_error_not_a_leak(api: Api) -> None:
    from erpcore.crypto import Keyring, generate_key, parse_keys

    api.erp._keyring = Keyring(parse_keys(generate_key("k1"), "test"), "k1")
    _staff(api)
    api.erp._keyring = Keyring()  # the server restarted without its key
    response = api.get("/employees", role="finance")
    body = response.json()
    assert response.status_code == 500 and body["code"] == "encryption_key_missing"
    assert body["detail"].startswith("employee.salary holds values encrypted with key 'k1', which is not configured")
    assert "v1:" not in response.text and "Traceback" not in response.text
