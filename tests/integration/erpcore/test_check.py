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


def _corrupt(erp: Erp, backend: str, *statements: str) -> set[str]:
    """Run `statements` as a DBA with the immutability triggers off; the names of the invariants then broken."""
    with erp.engine.begin() as conn:
        if backend == "pg":
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        for sql in statements:
            conn.execute(text(sql))
    return {v.invariant for v in run_check(erp.engine).violations}


def test_check_names_a_po_line_billed_beyond_what_it_received(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE supplier_invoice_line SET quantity = quantity * 2",
                      "UPDATE purchase_order_line SET qty_invoiced = qty_invoiced * 2")
    assert "billed_within_received" in broken


def test_check_names_grni_left_on_a_fully_billed_line(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE supplier_invoice_line SET grni_amount = grni_amount - 0.05")
    assert {"grni_clears_per_line", "grni_account_matches_lines"} <= broken


def test_check_names_a_reservation_beyond_its_line(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE stock_reservation SET quantity = quantity + 100",
                      "UPDATE stock_balance SET on_hand = on_hand + 100, reserved = reserved + 100")
    assert "reservations_within_lines" in broken


def test_check_names_a_sub_cent_cash_amount(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE customer_receipt SET amount = amount + 0.001")
    assert "cash_in_cents" in broken


def test_check_names_a_document_dated_before_its_source(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE customer_receipt SET receipt_date = '2001-01-01'")
    assert "documents_dated_after_their_source" in broken


def test_check_names_a_stale_order_status(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "UPDATE sales_order SET status = 'closed' WHERE status <> 'draft'")
    assert "statuses_derived" in broken


def test_check_names_a_reversal_dated_before_its_original(erp: Erp, backend: str) -> None:
    w = make_world(erp)
    stock_up(w, "5")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal(2))]).id
    sales.approve_sales_order(erp.uow(), so)
    shipment = sales.ship_sales_order(erp.uow(), so).id
    sales.cancel_shipment(erp.uow(), shipment)
    assert run_check(erp.engine).ok
    broken = _corrupt(erp, backend, "UPDATE journal_entry SET entry_date = '2001-01-01' WHERE event = 'cancel'")
    assert "documents_dated_after_their_source" in broken


def test_check_names_a_posting_written_into_a_closed_period(erp: Erp, backend: str) -> None:
    _busy_world(erp)
    broken = _corrupt(erp, backend, "INSERT INTO fiscal_period (year, month, start_date, end_date, status, closed_at) "
                      "SELECT 2000 + 0, 1, MIN(entry_date), MAX(entry_date), 'closed', '2000-01-01' FROM journal_entry")
    assert "no_posting_in_a_closed_period" in broken
