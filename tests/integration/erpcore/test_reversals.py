"""The cancels that were missing, and replenishment that counts what is coming, on both engines."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from sqlalchemy import select, update

from erpcore.check import run_check
from erpcore.exceptions import InsufficientStock, InvalidTransition
from erpcore.models import Item, JournalEntry, PurchaseRequisition
from erpcore.services import master, production, purchasing, reversals, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.production import BomLineInput
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import World, make_world, stock_up
from tests.integration.erpcore.test_returns import balances, entry, stock


def _reversal_of(erp: Erp, source_type: str, source_id: int) -> tuple[int | None, int]:
    """(reversal_of_id of the cancel entry, id of the original entry)."""
    with erp.engine.connect() as conn:
        rows = {r.event: r for r in conn.execute(select(JournalEntry.id, JournalEntry.event,
                                                        JournalEntry.reversal_of_id).where(
            JournalEntry.source_type == source_type, JournalEntry.source_id == source_id))}
    return rows["cancel"].reversal_of_id, rows["post"].id


def _nets_to_zero(erp: Erp, source_type: str, source_id: int) -> None:
    reversal_of, original = _reversal_of(erp, source_type, source_id)
    assert reversal_of == original
    lines = entry(erp, source_type, source_id)
    per_role: dict[str, D] = {}
    for role, debit, credit in lines:
        per_role[role] = per_role.get(role, D(0)) + debit - credit
    assert per_role and all(v == 0 for v in per_role.values())


def _ordered(erp: Erp, w: World, qty: str) -> int:
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, D(qty))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    return po


def test_cancelling_an_unbilled_goods_receipt_reverses_stock_and_grni(erp: Erp) -> None:
    w = make_world(erp)
    po = _ordered(erp, w, "5")
    gr = purchasing.receive_goods(erp.uow(), po).id  # Dr Inventory 30.00 / Cr GRNI 30.00
    doc = reversals.cancel_goods_receipt(erp.uow(), gr)
    assert doc.status == "cancelled"
    _nets_to_zero(erp, "goods_receipt", gr)
    ledger = balances(erp)
    assert (ledger["inventory"], ledger["goods_received_not_invoiced"]) == (0, 0)
    assert stock(erp, w) == (0, 0)
    again = purchasing.receive_goods(erp.uow(), po)  # the PO is open again: it receives anew
    assert D(again.row["value_amount"]) == D("30.00")
    with pytest.raises(InvalidTransition, match="is cancelled; only a posted receipt"):
        reversals.cancel_goods_receipt(erp.uow(), gr)
    assert run_check(erp.engine).ok


def test_a_billed_or_consumed_goods_receipt_is_not_cancelled(erp: Erp) -> None:
    w = make_world(erp)
    po = _ordered(erp, w, "5")
    gr = purchasing.receive_goods(erp.uow(), po).id
    purchasing.register_supplier_invoice(erp.uow(), po, "B-1", [InvoiceLineInput(1, D(2), D("6.00"))])
    with pytest.raises(InvalidTransition, match="is billed: PO line 1 has 2 invoiced, 0 would stay received"):
        reversals.cancel_goods_receipt(erp.uow(), gr)
    other = make_world(erp)
    po2 = _ordered(erp, other, "4")
    gr2 = purchasing.receive_goods(erp.uow(), po2).id
    so = sales.create_sales_order(erp.uow(), other.customer_id, [OrderLineInput(other.item_id, D(3))]).id
    sales.approve_sales_order(erp.uow(), so)  # 3 of the 4 reserved
    with pytest.raises(InsufficientStock, match="has 1 free, the receipt brought 4"):
        reversals.cancel_goods_receipt(erp.uow(), gr2)
    assert run_check(erp.engine).ok


def test_cancelling_a_customer_receipt_reopens_its_invoice(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "2")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(2))]).id
    sales.approve_sales_order(erp.uow(), so)
    sales.ship_sales_order(erp.uow(), so)
    invoice = sales.invoice_sales_order(erp.uow(), so).id  # 20.00 + 4.00
    receipt = sales.record_customer_receipt(erp.uow(), invoice).id
    assert balances(erp)["bank"] == D("24.00")
    doc = reversals.cancel_customer_receipt(erp.uow(), receipt)
    assert doc.status == "cancelled"
    _nets_to_zero(erp, "customer_receipt", receipt)
    ledger = balances(erp)
    assert (ledger["bank"], ledger["accounts_receivable"]) == (0, D("24.00"))
    with erp.engine.connect() as conn:
        from erpcore.services import views
        inv = views.customer_invoice(conn, invoice)
        order = views.sales_order(conn, so)
    assert (inv["status"], D(inv["amount_paid"])) == ("posted", 0)
    assert order["status"] == "invoiced"  # was closed while paid
    sales.record_customer_receipt(erp.uow(), invoice, D("10.00"))  # it takes receipts again
    assert run_check(erp.engine).ok


def test_cancelling_a_supplier_payment_reopens_its_invoice(erp: Erp) -> None:
    w = make_world(erp)
    po = _ordered(erp, w, "3")
    purchasing.receive_goods(erp.uow(), po)
    inv = purchasing.register_supplier_invoice(erp.uow(), po, "P-1", [InvoiceLineInput(1, D(3), D("6.00"))]).id
    payment = purchasing.pay_supplier_invoice(erp.uow(), inv).id  # 18.00 + 3.60
    doc = reversals.cancel_supplier_payment(erp.uow(), payment)
    assert doc.status == "cancelled"
    _nets_to_zero(erp, "supplier_payment", payment)
    ledger = balances(erp)
    assert (ledger["bank"], ledger["accounts_payable"]) == (0, D("-21.60"))
    with pytest.raises(InvalidTransition, match="is cancelled"):
        reversals.cancel_supplier_payment(erp.uow(), payment)
    purchasing.pay_supplier_invoice(erp.uow(), inv)  # payable again, in full
    assert balances(erp)["accounts_payable"] == 0
    assert run_check(erp.engine).ok


def test_only_open_requisitions_cancel(erp: Erp) -> None:
    w = make_world(erp)
    req = purchasing.create_requisition(erp.uow(), w.item_id, D(5)).id
    ordered = purchasing.create_requisition(erp.uow(), w.item_id, D(3)).id
    purchasing.create_purchase_order(erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, D(3),
                                                                                  requisition_id=ordered)])
    assert reversals.cancel_requisition(erp.uow(), req).status == "cancelled"
    with pytest.raises(InvalidTransition, match="is ordered; only an open requisition can be cancelled"):
        reversals.cancel_requisition(erp.uow(), ordered)


def _requisitions(erp: Erp, w: World) -> list[tuple[str, D, str]]:
    with erp.engine.connect() as conn:
        return [(r.reason, D(str(r.quantity)).quantize(D("0.0001")), r.status) for r in conn.execute(
            select(PurchaseRequisition.reason, PurchaseRequisition.quantity, PurchaseRequisition.status)
            .where(PurchaseRequisition.item_id == w.item_id).order_by(PurchaseRequisition.id))]


def test_safety_stock_requisition_counts_what_is_on_order(erp: Erp) -> None:
    w = make_world(erp, safety="10", reorder="40")
    stock_up(w, "12")
    _ordered(erp, w, "50")  # 50 on an open PO
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(5))]).id
    sales.approve_sales_order(erp.uow(), so)  # free 7 < 10, but 7 + 50 coming: no requisition
    assert _requisitions(erp, w) == []
    bare = make_world(erp, safety="10", reorder="40")
    stock_up(bare, "12")
    so = sales.create_sales_order(erp.uow(), bare.customer_id, [OrderLineInput(bare.item_id, D(5))]).id
    sales.approve_sales_order(erp.uow(), so)  # nothing coming: the reorder quantity
    assert _requisitions(erp, bare) == [("safety_stock", D(40), "open")]


def test_safety_stock_requisition_counts_work_orders_in_production(erp: Erp) -> None:
    w = make_world(erp, safety="10", reorder="40")
    stock_up(w, "12")
    component = master.create_item(erp.uow(), f"PART-{w.item_id}", "Part", D("1.00"), D("2.00")).id
    with erp.engine.begin() as conn:  # the widget is made here as well as bought
        conn.execute(update(Item).where(Item.id == w.item_id).values(procurement="manufactured"))
    production.create_bom(erp.uow(), w.item_id, [BomLineInput(component, D(1))])
    wo = production.plan_work_order(erp.uow(), w.item_id, D(50)).id
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(5))]).id
    sales.approve_sales_order(erp.uow(), so)  # free 7 < 10, but 7 + 50 in production: no requisition
    assert _requisitions(erp, w) == []
    production.cancel_work_order(erp.uow(), wo)
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(1))]).id
    sales.approve_sales_order(erp.uow(), so)  # free 6, nothing coming any more: the reorder quantity
    assert _requisitions(erp, w) == [("safety_stock", D(40), "open")]


def test_a_cancelled_order_cancels_its_open_shortage_requisition(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "3")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(5))]).id
    sales.approve_sales_order(erp.uow(), so)
    assert _requisitions(erp, w) == [("shortage", D(2), "open")]
    sales.cancel_sales_order(erp.uow(), so)
    assert _requisitions(erp, w) == [("shortage", D(2), "cancelled")]
    # one already on a purchase order stays: the order line is the buyer's to cancel
    so2 = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(4))]).id
    sales.approve_sales_order(erp.uow(), so2)
    with erp.engine.connect() as conn:
        req = conn.scalar(select(PurchaseRequisition.id).where(PurchaseRequisition.status == "open",
                                                               PurchaseRequisition.item_id == w.item_id))
    purchasing.create_purchase_order(erp.uow(), w.supplier_id, [PurchaseLineInput(w.item_id, D(1),
                                                                                  requisition_id=req)])
    sales.cancel_sales_order(erp.uow(), so2)
    assert _requisitions(erp, w)[-1] == ("shortage", D(1), "ordered")
    assert run_check(erp.engine).ok
