from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erpcore.check import run_check
from erpcore.exceptions import InvalidTransition
from erpcore.models import JournalEntry, OutboxMessage, PurchaseOrder, SupplierInvoice
from erpcore.services import purchasing
from erpcore.services.bootstrap import Erp
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from tests.factories import make_world


def _approved_po(erp: Erp, supplier: int, item: int, qty: str = "10", price: str = "5.00") -> int:
    po = purchasing.create_purchase_order(erp.uow(), supplier, [PurchaseLineInput(item, Decimal(qty), Decimal(price))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    return po


def test_procure_to_pay_matches_posts_and_pays(erp: Erp) -> None:
    w = make_world(erp)
    req = purchasing.create_requisition(erp.uow(), w.item_id, Decimal(10)).id
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [
        PurchaseLineInput(w.item_id, Decimal(10), Decimal("5.00"), requisition_id=req)]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    purchasing.receive_goods(erp.uow(), po)
    result = purchasing.register_supplier_invoice(erp.uow(), po, "S-1", [
        InvoiceLineInput(1, Decimal(10), Decimal("5.05"))])  # 1 % over the PO price: within 2 %
    assert result.status == "matched", result.reason
    purchasing.pay_supplier_invoice(erp.uow(), result.id)
    with erp.session_factory() as s:
        inv = s.get(SupplierInvoice, result.id)
        assert inv is not None and inv.status == "paid" and inv.total_amount == Decimal("60.60")
        assert s.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == po)) == "closed"
    assert run_check(erp.engine).ok


@pytest.mark.parametrize(("qty", "price", "why"), [
    ("10", "5.20", "price 5.20 differs from PO price 5.00 by more than 2%"),
    ("12", "5.00", "invoiced 12 but only 10 received"),
])
def test_out_of_tolerance_invoices_go_on_hold_with_the_reason_and_are_not_paid(
        erp: Erp, qty: str, price: str, why: str) -> None:
    w = make_world(erp)
    po = _approved_po(erp, w.supplier_id, w.item_id)
    purchasing.receive_goods(erp.uow(), po)
    result = purchasing.register_supplier_invoice(erp.uow(), po, "S-2", [
        InvoiceLineInput(1, Decimal(qty), Decimal(price))])
    assert result.status == "on_hold"
    assert why in result.reason
    with pytest.raises(InvalidTransition, match="only matched invoices are paid"):
        purchasing.pay_supplier_invoice(erp.uow(), result.id)
    with erp.session_factory() as s:
        alerts = s.scalars(select(OutboxMessage.payload).where(OutboxMessage.topic == "alert")).all()
        assert any(a["alertname"] == "SupplierInvoiceOnHold" for a in alerts)
        # a held invoice posts nothing
        assert s.scalar(select(func.count()).select_from(JournalEntry)
                        .where(JournalEntry.source_type == "supplier_invoice")) == 0
    assert run_check(erp.engine).ok


def test_goods_receipt_releases_an_invoice_waiting_on_it(erp: Erp) -> None:
    w = make_world(erp)
    po = _approved_po(erp, w.supplier_id, w.item_id)
    early = purchasing.register_supplier_invoice(erp.uow(), po, "S-3", [InvoiceLineInput(1, Decimal(10), Decimal(5))])
    assert early.status == "on_hold" and "only 0 received" in early.reason
    purchasing.receive_goods(erp.uow(), po)
    with erp.session_factory() as s:
        inv = s.get(SupplierInvoice, early.id)
        assert inv is not None and inv.status == "matched" and inv.hold_reason is None
    assert run_check(erp.engine).ok


def test_quantity_tolerance_is_configurable(erp: Erp) -> None:
    erp.settings.matching.quantity_tolerance = Decimal("0.10")
    w = make_world(erp)
    po = _approved_po(erp, w.supplier_id, w.item_id)
    purchasing.receive_goods(erp.uow(), po)
    ok = purchasing.register_supplier_invoice(erp.uow(), po, "S-4", [InvoiceLineInput(1, Decimal(11), Decimal(5))])
    assert ok.status == "matched"


def test_duplicate_supplier_reference_is_refused(erp: Erp) -> None:
    from erpcore.exceptions import Conflict

    w = make_world(erp)
    po = _approved_po(erp, w.supplier_id, w.item_id)
    purchasing.register_supplier_invoice(erp.uow(), po, "DUP", [InvoiceLineInput(1, Decimal(1), Decimal(5))])
    with pytest.raises(Conflict, match="already registered"):
        purchasing.register_supplier_invoice(erp.uow(), po, "DUP", [InvoiceLineInput(1, Decimal(1), Decimal(5))])


def test_cancelled_matched_invoice_is_reversed_to_zero(erp: Erp) -> None:
    w = make_world(erp)
    po = _approved_po(erp, w.supplier_id, w.item_id)
    purchasing.receive_goods(erp.uow(), po)
    res = purchasing.register_supplier_invoice(erp.uow(), po, "S-5", [InvoiceLineInput(1, Decimal(10), Decimal(5))])
    purchasing.cancel_supplier_invoice(erp.uow(), res.id)
    with erp.session_factory() as s:
        entries = s.scalars(select(JournalEntry).where(JournalEntry.source_type == "supplier_invoice")).all()
        assert sorted(e.event for e in entries) == ["cancel", "post"]
    report = run_check(erp.engine)
    assert report.ok, report.violations
    # the invoice quantity is free again: a new invoice matches
    again = purchasing.register_supplier_invoice(erp.uow(), po, "S-6", [InvoiceLineInput(1, Decimal(10), Decimal(5))])
    assert again.status == "matched"
