"""Month-end close: a closed period refuses postings (409 naming it), closing refuses while documents of the
month are unfinished, and only an admin reopens. Through the API and the CLI, on both engines."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from erpcore.check import run_check
from tests.e2e.api.conftest import Api


def _order(api: Api, w: dict[str, int], day: str) -> dict[str, object]:
    return dict(api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "order_date": day, "lines": [
        {"item_id": w["item_id"], "quantity": "1"}]}), 201))


def test_a_closed_period_takes_no_posting_until_reopened(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    last_month = (dt.date.today().replace(day=1) - dt.timedelta(days=1))
    period = last_month.strftime("%Y-%m")
    closed = api.ok(api.post(f"/periods/{period}/close", role="finance"))
    assert closed["status"] == "closed" and closed["closed_by"] == "test-finance"
    so = _order(api, w, last_month.isoformat())  # an order posts nothing: it may still be dated there
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    late = api.post(f"/sales-orders/{so['id']}/ship", {"ship_date": last_month.isoformat()})
    assert late.status_code == 409 and f"fiscal period {period} is closed" in late.text
    with api.erp.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM shipment")).scalar_one() == 0  # nothing half-written
    assert api.post(f"/periods/{period}/reopen", role="finance").status_code == 403
    api.ok(api.post(f"/periods/{period}/reopen", role="admin"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship", {"ship_date": last_month.isoformat()}), 201)
    assert run_check(api.erp.engine).ok


def test_closing_refuses_while_documents_of_the_month_are_unfinished(api: Api) -> None:
    w = api.world()
    day = dt.date.today().replace(day=1) - dt.timedelta(days=1)
    draft = _order(api, w, day.isoformat())
    refused = api.post(f"/periods/{day:%Y-%m}/close", role="finance")
    assert refused.status_code == 409
    assert f"sales order {draft['number']}" in refused.text
    api.ok(api.post(f"/sales-orders/{draft['id']}/cancel"))
    api.ok(api.post(f"/periods/{day:%Y-%m}/close", role="finance"))
    assert api.post(f"/periods/{day:%Y-%m}/close", role="finance").status_code == 409  # already closed
    listed = api.ok(api.get("/periods", role="finance"))
    assert [(p["year"], p["month"], p["status"]) for p in listed] == [(day.year, day.month, "closed")]


def test_bad_period_names_and_roles_are_refused(api: Api) -> None:
    assert api.post("/periods/2026-13/close", role="finance").status_code == 422
    assert api.post("/periods/nov/close", role="finance").status_code == 422
    assert api.post("/periods/2026-01/close", role="sales").status_code == 403
    assert api.post("/periods/2026-01/close", role=None).status_code == 401
