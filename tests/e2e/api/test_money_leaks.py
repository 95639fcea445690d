"""Issue 11's money leaks, each driven through the API exactly as the accountant did, on both engines, with
every balance checked and `erpops check` run after."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from erpcore.check import run_check
from tests.e2e.api.conftest import Api
from tests.factories import uid


def balance(api: Api, role: str) -> Decimal:
    """Debit minus credit of the account with `role`."""
    with api.erp.engine.connect() as conn:
        value = conn.execute(text(
            "SELECT COALESCE(SUM(jl.debit - jl.credit), 0) FROM journal_line jl JOIN account a "
            "ON a.id = jl.account_id WHERE a.role = :role"), {"role": role}).scalar_one()
    return Decimal(str(value)).quantize(Decimal("0.01"))


def assert_check_passes(api: Api) -> None:
    report = run_check(api.erp.engine)
    assert report.ok, [v.message for v in report.violations]


def purchase(api: Api, w: dict[str, int], qty: str, price: str) -> dict[str, Any]:
    po = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "lines": [
        {"item_id": w["item_id"], "quantity": qty, "unit_price": price}]}), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve"))
    return dict(po)


def bill(api: Api, po_id: int, lines: list[tuple[str, str]]) -> Any:
    return api.post("/supplier-invoices", {"purchase_order_id": po_id, "supplier_ref": uid("REF"), "lines": [
        {"line_no": 1, "quantity": q, "unit_price": p} for q, p in lines]})


def test_one_invoice_cannot_bill_a_po_line_twice(api: Api) -> None:
    w = api.world()
    po = purchase(api, w, "4", "50.00")
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive"), 201)
    held = api.ok(bill(api, po["id"], [("4", "50.00"), ("4", "50.00")]), 201)
    assert held["status"] == "on_hold"
    assert "invoiced 4 but only 0 received and not yet invoiced" in held["reason"]
    assert balance(api, "goods_received_not_invoiced") == Decimal("-200.00")
    assert api.post(f"/supplier-invoices/{held['id']}/pay").status_code == 409
    assert_check_passes(api)


def test_grni_clears_to_zero_after_unit_by_unit_receipts(api: Api) -> None:
    w = api.world()
    po = purchase(api, w, "10", "1.005")
    for _ in range(10):
        api.ok(api.post(f"/purchase-orders/{po['id']}/receive", {"lines": [{"line_no": 1, "quantity": "1"}]}), 201)
    assert balance(api, "goods_received_not_invoiced") == Decimal("-10.10")  # ten receipts of 1.01
    matched = api.ok(bill(api, po["id"], [("10", "1.005")]), 201)
    assert matched["status"] == "matched"
    assert balance(api, "goods_received_not_invoiced") == Decimal("0.00")
    assert balance(api, "price_variance") == Decimal("-0.05")  # 10.05 billed against 10.10 received
    assert_check_passes(api)


def test_grni_clears_to_zero_when_billed_in_two_halves(api: Api) -> None:
    w = api.world()
    po = purchase(api, w, "10", "1.005")
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive"), 201)  # 10.05 at once
    for _ in range(2):
        assert api.ok(bill(api, po["id"], [("5", "1.005")]), 201)["status"] == "matched"
    assert balance(api, "goods_received_not_invoiced") == Decimal("0.00")
    assert_check_passes(api)


def test_payment_terms_of_zero_days_are_due_on_the_invoice_date(api: Api) -> None:
    customer = api.ok(api.post("/customers", {"code": uid("CUS"), "name": "Cash customer",
                                              "payment_terms_days": 0}), 201)
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", {"customer_id": customer["id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship"), 201)
    inv = api.ok(api.post(f"/sales-orders/{so['id']}/invoice"), 201)
    assert inv["due_date"] == inv["invoice_date"]


def test_sub_cent_cash_amounts_are_refused_and_nothing_is_written(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "1"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship"), 201)
    inv = api.ok(api.post(f"/sales-orders/{so['id']}/invoice"), 201)
    refused = api.post(f"/customer-invoices/{inv['id']}/receipts", {"amount": "0.005"})
    assert refused.status_code == 422 and "minor unit" in refused.text
    po = purchase(api, w, "1", "5.00")
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive"), 201)
    sinv = api.ok(bill(api, po["id"], [("1", "5.00")]), 201)
    assert api.post(f"/supplier-invoices/{sinv['id']}/pay", {"amount": "0.0001"}).status_code == 422
    with api.erp.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customer_receipt")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM supplier_payment")).scalar_one() == 0
    assert_check_passes(api)


def test_cancelling_a_shipment_restores_the_reservation_it_consumed(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "4")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "4"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    shp = api.ok(api.post(f"/sales-orders/{so['id']}/ship", {"lines": [{"line_no": 1, "quantity": "2"}]}), 201)
    api.ok(api.post(f"/shipments/{shp['id']}/cancel"))
    order = api.ok(api.get(f"/sales-orders/{so['id']}"))
    assert order["status"] == "approved"
    assert Decimal(order["lines"][0]["qty_reserved"]) == Decimal(4)
    other = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "backorder_allowed": False,
                                              "lines": [{"item_id": w["item_id"], "quantity": "1"}]}), 201)
    assert api.post(f"/sales-orders/{other['id']}/approve").status_code == 409  # nothing free for anyone
    assert_check_passes(api)


def test_cancelling_the_held_invoice_closes_a_fully_billed_and_paid_po(api: Api) -> None:
    w = api.world()
    po = purchase(api, w, "10", "5.00")
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive"), 201)
    matched = api.ok(bill(api, po["id"], [("10", "5.00")]), 201)
    held = api.ok(bill(api, po["id"], [("1", "5.00")]), 201)
    assert held["status"] == "on_hold"
    api.ok(api.post(f"/supplier-invoices/{matched['id']}/pay", role="finance"), 201)  # not who entered it
    assert api.ok(api.get(f"/purchase-orders/{po['id']}"))["status"] == "received"
    api.ok(api.post(f"/supplier-invoices/{held['id']}/cancel"))
    assert api.ok(api.get(f"/purchase-orders/{po['id']}"))["status"] == "closed"
    assert_check_passes(api)


def test_a_cancellation_cannot_be_dated_before_what_it_reverses(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "4")
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    shp = api.ok(api.post(f"/sales-orders/{so['id']}/ship"), 201)
    last_year = (dt.date.today() - dt.timedelta(days=365)).isoformat()
    refused = api.post(f"/shipments/{shp['id']}/cancel", {"cancel_date": last_year})
    assert refused.status_code == 422 and "is before shipment" in refused.text
    early = api.post(f"/sales-orders/{so['id']}/invoice", {"invoice_date": last_year})
    assert early.status_code == 422 and "before its latest shipment" in early.text
    assert api.ok(api.get(f"/shipments/{shp['id']}"))["status"] == "posted"
    assert_check_passes(api)


def test_amount_overflow_and_far_dates_are_422_naming_the_field(api: Api) -> None:
    w = api.world()
    huge = api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "9999999999", "unit_price": "9999999999"}]})
    assert huge.status_code == 422 and "largest amount" in huge.text
    for day in ("0001-01-01", "9999-12-31"):
        far = api.post("/sales-orders", {"customer_id": w["customer_id"], "order_date": day, "lines": [
            {"item_id": w["item_id"], "quantity": "1"}]})
        assert far.status_code == 422 and "order_date" in far.text, far.text
    with api.erp.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sales_order")).scalar_one() == 0
        assert conn.execute(text("SELECT COUNT(*) FROM document_sequence WHERE year < 2000")).scalar_one() == 0


def test_the_year_closes_income_and_expense_into_retained_earnings(api: Api) -> None:
    w = api.world(price="10.00", cost="6.00")
    po = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "order_date": "2024-12-01", "lines": [
        {"item_id": w["item_id"], "quantity": "5", "unit_price": "6.00"}]}), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve"))
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive", {"receipt_date": "2024-12-02"}), 201)
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "order_date": "2024-12-03", "lines": [
        {"item_id": w["item_id"], "quantity": "2"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship", {"ship_date": "2024-12-04"}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/invoice", {"invoice_date": "2024-12-05"}), 201)
    tb = api.ok(api.get("/reports/trial-balance", role="finance", date_from="2025-01-01", date_to="2025-01-31"))
    by_code = {a["code"]: a for a in tb["accounts"]}
    assert Decimal(by_code["4000"]["opening"]) == 0  # revenue 20.00 closed at year end
    assert Decimal(by_code["5000"]["opening"]) == 0  # cost of goods sold 12.00 closed
    assert Decimal(by_code["3100"]["opening"]) == Decimal("-8.00")  # the 2024 profit, a credit
    assert Decimal(tb["totals"]["opening"]) == 0
    span = api.ok(api.get("/reports/trial-balance", role="finance", date_from="2024-12-01", date_to="2025-01-31"))
    assert Decimal({a["code"]: a for a in span["accounts"]}["3100"]["opening"]) == 0  # nothing before 2024
