"""Returns and the missing reversals over HTTP on both engines: each chain end to end, each cancel netting to
zero in the ledger, and an over-return refused with nothing written."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from sqlalchemy import func, select

from erpcore.check import run_check
from erpcore.models import CustomerReturn, JournalEntry, StockMove, SupplierReturn
from tests.e2e.api.conftest import Api
from tests.factories import uid
from tests.integration.erpcore.test_returns import balances


def _invoiced(api: Api, w: dict[str, int], qty: str) -> dict[str, Any]:
    """A shipment of `qty` (at 10.00, cost 6.00), invoiced: the shipment as the API returned it."""
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "lines": [
        {"item_id": w["item_id"], "quantity": qty}]}, role="sales"), 201)["id"]
    api.ok(api.post(f"/sales-orders/{so}/approve", role="sales"))
    shipment = api.ok(api.post(f"/sales-orders/{so}/ship", role="warehouse"), 201)
    api.ok(api.post(f"/sales-orders/{so}/invoice", role="finance"), 201)
    return dict(shipment)


def _rows(api: Api) -> tuple[int, ...]:
    with api.erp.engine.connect() as conn:
        return tuple(int(conn.scalar(select(func.count()).select_from(m)) or 0)
                     for m in (CustomerReturn, SupplierReturn, JournalEntry, StockMove))


def _reversal_nets(api: Api, source_type: str, source_id: int) -> None:
    with api.erp.engine.connect() as conn:
        entries = {r.event: r for r in conn.execute(select(JournalEntry.id, JournalEntry.event,
                                                           JournalEntry.reversal_of_id).where(
            JournalEntry.source_type == source_type, JournalEntry.source_id == source_id))}
    assert entries["cancel"].reversal_of_id == entries["post"].id
    assert run_check(api.erp.engine, only=["reversals_net_to_zero", "cancellations_reversed"]).ok


def test_customer_return_end_to_end(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "10")
    shipment = _invoiced(api, w, "4")
    line = shipment["lines"][0]["id"]
    ret = api.ok(api.post("/customer-returns", {"shipment_id": shipment["id"], "lines": [
        {"shipment_line_id": line, "quantity": "3"}]}, role="warehouse"), 201)
    assert ret["status"] == "posted" and ret["number"].startswith("CRN-")
    # 3 of 4 at cost 6.00 = 18.00 back in stock; credit 30.00 + 6.00 VAT
    assert [D(ret[k]) for k in ("cost_amount", "net_amount", "tax_amount", "total_amount")] == [
        D("18.00"), D("30.00"), D("6.00"), D("36.00")]
    assert ret["lines"][0]["shipment_line_id"] == line and D(ret["lines"][0]["quantity"]) == 3
    assert D(ret["refund_amount"]) == 0 and ret["customer_invoice_id"] > 0  # the unpaid invoice takes the credit
    assert api.ok(api.get(f"/customer-returns/{ret['id']}", role="finance")) == ret
    listed = api.ok(api.get("/customer-returns", role="viewer", shipment_id=shipment["id"]))["items"]
    assert [r["id"] for r in listed] == [ret["id"]]
    ledger = balances(api.erp)
    assert (ledger["accounts_receivable"], ledger["revenue"], ledger["inventory"]) == (
        D("12.00"), D("-10.00"), D("54.00"))
    assert api.post("/customer-returns", {"shipment_id": shipment["id"]}, role="purchasing").status_code == 403
    assert run_check(api.erp.engine).ok


def test_an_over_return_is_refused_and_writes_no_row(api: Api) -> None:
    w = api.world()
    api.stock_up(w["supplier_id"], w["item_id"], "5")
    shipment = _invoiced(api, w, "2")
    line = shipment["lines"][0]["id"]
    before = _rows(api)
    for body in ({"shipment_id": shipment["id"], "lines": [{"shipment_line_id": line, "quantity": "3"}]},
                 {"shipment_id": shipment["id"], "lines": [{"shipment_line_id": line, "quantity": "1.5"},
                                                           {"shipment_line_id": line, "quantity": "1"}]},
                 {"shipment_id": shipment["id"], "lines": [{"shipment_line_id": line + 999, "quantity": "1"}]},
                 {"shipment_id": shipment["id"], "lines": [{"shipment_line_id": line, "quantity": "-1"}]}):
        refused = api.post("/customer-returns", body)
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert "over-return" in api.post("/customer-returns", {"shipment_id": shipment["id"], "lines": [
        {"shipment_line_id": line, "quantity": "3"}]}).json()["detail"]
    assert api.post("/customer-returns", {"shipment_id": 10**12}).status_code == 404
    assert _rows(api) == before


def test_supplier_return_end_to_end(api: Api) -> None:
    w = api.world()
    po = api.stock_up(w["supplier_id"], w["item_id"], "10")
    receipt = api.ok(api.get("/goods-receipts", purchase_order_id=po))["items"][0]
    receipt = api.ok(api.get(f"/goods-receipts/{receipt['id']}"))
    line = receipt["lines"][0]["id"]
    ret = api.ok(api.post("/supplier-returns", {"goods_receipt_id": receipt["id"], "lines": [
        {"goods_receipt_line_id": line, "quantity": "4"}]}, role="purchasing"), 201)
    # unbilled: stock and GRNI out at receipt cost, 4 * 6.00; no debit note
    assert [D(ret[k]) for k in ("value_amount", "stock_value", "grni_amount", "total_amount")] == [
        D("24.00"), D("24.00"), D("24.00"), D(0)]
    assert D(ret["lines"][0]["qty_unbilled"]) == 4
    assert api.ok(api.get(f"/purchase-orders/{po}"))["status"] == "partly_received"
    inv = api.ok(api.post("/supplier-invoices", {"purchase_order_id": po, "supplier_ref": uid("S"), "lines": [
        {"line_no": 1, "quantity": "6", "unit_price": "6.00"}]}), 201)
    assert inv["status"] == "matched"
    again = api.ok(api.post("/supplier-returns", {"goods_receipt_id": receipt["id"], "lines": [
        {"goods_receipt_line_id": line, "quantity": "1"}]}), 201)  # billed now: a debit note 6.00 + 1.20
    assert (D(again["net_amount"]), D(again["tax_amount"]), D(again["grni_amount"])) == (D("6.00"), D("1.20"), 0)
    assert again["supplier_invoice_id"] == inv["id"] and D(again["refund_amount"]) == 0
    ledger = balances(api.erp)
    assert (ledger["goods_received_not_invoiced"], ledger["accounts_payable"], ledger["inventory"]) == (
        0, D("-36.00"), D("30.00"))  # AP 43.20 - 7.20; stock 60.00 - 24.00 - 6.00
    listed = api.ok(api.get("/supplier-returns", role="finance", goods_receipt_id=receipt["id"]))["items"]
    assert [r["id"] for r in listed] == [ret["id"], again["id"]]
    over = api.post("/supplier-returns", {"goods_receipt_id": receipt["id"], "lines": [
        {"goods_receipt_line_id": line, "quantity": "6"}]})
    assert over.status_code == 422 and "over-return" in over.json()["detail"]
    assert run_check(api.erp.engine).ok


def test_each_cancel_nets_its_posting_to_zero(api: Api) -> None:
    w = api.world()
    po = api.stock_up(w["supplier_id"], w["item_id"], "6")
    # a goods receipt nothing of which is billed
    second = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "lines": [
        {"item_id": w["item_id"], "quantity": "2", "unit_price": "6.00"}]}), 201)["id"]
    api.ok(api.post(f"/purchase-orders/{second}/approve"))
    gr = api.ok(api.post(f"/purchase-orders/{second}/receive"), 201)
    cancelled = api.ok(api.post(f"/goods-receipts/{gr['id']}/cancel", role="warehouse"))
    assert cancelled["status"] == "cancelled"
    _reversal_nets(api, "goods_receipt", gr["id"])
    assert api.post(f"/goods-receipts/{gr['id']}/cancel").status_code == 409
    # a customer receipt
    shipment = _invoiced(api, w, "2")
    invoice = api.ok(api.get("/customer-invoices", sales_order_id=shipment["sales_order_id"]))["items"][0]
    receipt = api.ok(api.post(f"/customer-invoices/{invoice['id']}/receipts", role="finance"), 201)
    assert api.post(f"/customer-receipts/{receipt['id']}/cancel", role="sales").status_code == 403
    assert api.ok(api.post(f"/customer-receipts/{receipt['id']}/cancel", role="finance"))["status"] == "cancelled"
    _reversal_nets(api, "customer_receipt", receipt["id"])
    # a supplier payment
    inv = api.ok(api.post("/supplier-invoices", {"purchase_order_id": po, "supplier_ref": uid("S"), "lines": [
        {"line_no": 1, "quantity": "6", "unit_price": "6.00"}]}), 201)
    payment = api.ok(api.post(f"/supplier-invoices/{inv['id']}/pay", role="finance"), 201)
    assert api.ok(api.post(f"/supplier-payments/{payment['id']}/cancel", role="finance"))["status"] == "cancelled"
    _reversal_nets(api, "supplier_payment", payment["id"])
    assert api.ok(api.get(f"/supplier-invoices/{inv['id']}"))["status"] == "matched"
    # a requisition
    req = api.ok(api.post("/purchase-requisitions", {"item_id": w["item_id"], "quantity": "3"}), 201)
    assert api.ok(api.post(f"/purchase-requisitions/{req['id']}/cancel", role="purchasing"))["status"] == "cancelled"
    assert api.post(f"/purchase-requisitions/{req['id']}/cancel").status_code == 409
    assert api.post("/purchase-requisitions/999999999/cancel").status_code == 404
    ledger = balances(api.erp)
    assert (ledger["bank"], ledger["goods_received_not_invoiced"]) == (0, 0)
    assert run_check(api.erp.engine).ok
