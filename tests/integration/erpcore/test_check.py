from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import insert, select, text, update

from erpcore.check import INVARIANTS, integrity_summary, run_check
from erpcore.exceptions import ValidationFailed
from erpcore.models import JournalEntry, JournalLine, StockBalance
from erpcore.services import purchasing, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.purchasing import InvoiceLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import make_world, stock_up


def _busy_world(erp: Erp) -> int:
    w = make_world(erp)
    po = stock_up(w, "20", price="5.00")
    purchasing.register_supplier_invoice(erp.uow(), po, "INV-A", [InvoiceLineInput(1, Decimal(20), Decimal("5.00"))])
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(8))]).id
    sales.approve_sales_order(erp.uow(), so)
    sales.ship_sales_order(erp.uow(), so, {1: Decimal(5)})
    inv = sales.invoice_sales_order(erp.uow(), so).id
    sales.record_customer_receipt(erp.uow(), inv, Decimal("10.00"))
    return w.item_id


def test_check_passes_on_consistent_data(erp: Erp) -> None:
    _busy_world(erp)
    report = run_check(erp.engine)
    assert report.ok, [v.message for v in report.violations]
    assert report.checked == [i.name for i in INVARIANTS]


def test_check_names_an_unbalanced_journal_entry(erp: Erp) -> None:
    _busy_world(erp)
    with erp.engine.begin() as conn:
        entry = conn.scalar(select(JournalEntry.id).order_by(JournalEntry.id).limit(1))
        account = conn.scalar(select(JournalLine.account_id).limit(1))
        conn.execute(insert(JournalLine).values(journal_entry_id=entry, account_id=account, debit=Decimal("1.00"),
                                                credit=0))
    report = run_check(erp.engine)
    names = {v.invariant for v in report.violations}
    assert {"journal_entries_balance", "trial_balance_zero"} <= names
    message = next(v.message for v in report.violations if v.invariant == "journal_entries_balance")
    assert f"id={entry}" in message


def test_check_names_a_stock_balance_that_disagrees_with_its_ledger(erp: Erp) -> None:
    item = _busy_world(erp)
    with erp.engine.begin() as conn:
        conn.execute(update(StockBalance).where(StockBalance.item_id == item).values(on_hand=StockBalance.on_hand + 3))
    report = run_check(erp.engine)
    names = {v.invariant for v in report.violations}
    assert "stock_ledger_matches_balances" in names
    assert not report.ok


def test_check_finds_a_posted_document_without_its_entry(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    with erp.engine.begin() as conn:
        if backend == "pg":  # the immutability triggers would refuse this; a DBA with superuser can still do it
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("DELETE FROM journal_line WHERE journal_entry_id IN "
                          "(SELECT id FROM journal_entry WHERE source_type = 'shipment')"))
        conn.execute(text("DELETE FROM journal_entry WHERE source_type = 'shipment'"))
    report = run_check(erp.engine)
    names = {v.invariant for v in report.violations}
    assert "shipments_posted" in names
    assert "inventory_account_matches_stock" in names


def test_only_runs_the_named_invariants_and_rejects_unknown_names(erp: Erp) -> None:
    report = run_check(erp.engine, only=["trial_balance_zero"])
    assert report.checked == ["trial_balance_zero"]
    with pytest.raises(ValidationFailed, match="no_such"):
        run_check(erp.engine, only=["no_such"])


def test_integrity_summary_reflects_the_documents(erp: Erp) -> None:
    _busy_world(erp)
    summary = integrity_summary(erp.engine)
    assert summary["count.sales_order"] == 1
    assert summary["count.shipment"] == 1
    assert summary["ledger.debit_total"] == summary["ledger.credit_total"]
    assert summary["stock.quantity"] == "15.0000"
    assert summary["stock.value"] == "75.00"
    assert summary["ar.open"] == "50.00"  # 5 x 10.00 + 20% VAT = 60.00, 10.00 received
