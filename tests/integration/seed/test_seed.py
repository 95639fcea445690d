"""Seeded history: it passes the integrity check, ends today, is open at several stages, and is shaped
the way the services write (numbers, sequences, ids), on both backends."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, text

from erpcore.check import run_check
from tests.integration.seed.conftest import DAYS, Seeded


def _rows(conn: Connection, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in conn.execute(text(sql))]


def test_seeded_history_passes_the_integrity_check(seeded: Seeded) -> None:
    from erpcore.check import run_check

    report = run_check(seeded.engine)
    assert report.ok, [v.message for v in report.violations]


def test_history_ends_today_and_spans_the_period(seeded: Seeded) -> None:
    today = dt.date.today()
    assert seeded.summary.end == today
    assert seeded.summary.start == today - dt.timedelta(days=DAYS - 1)
    with seeded.engine.connect() as conn:
        first, last = conn.execute(text("SELECT MIN(order_date), MAX(order_date) FROM sales_order")).one()
        first_entry, latest_entry = conn.execute(
            text("SELECT MIN(entry_date), MAX(entry_date) FROM journal_entry")).one()
    # The opening stock is bought and booked on the first day; a first day on a quiet Sunday may sell nothing
    # (4 orders a day x 0.2 / 0.86 expected), so the first sale falls within the first days, never before.
    start = seeded.summary.start
    assert str(first_entry) == start.isoformat()
    assert start.isoformat() <= str(first) <= (start + dt.timedelta(days=2)).isoformat()
    assert str(last) == today.isoformat()
    assert str(latest_entry) <= today.isoformat()


def test_most_documents_are_closed_and_recent_ones_open_at_several_stages(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        orders = dict(_rows(conn, "SELECT status, COUNT(*) FROM sales_order GROUP BY status"))
        open_orders = {s for s in orders if s not in ("closed", "cancelled")}
        first_month = seeded.summary.start + dt.timedelta(days=30)
        old = dict(_rows(conn, "SELECT status IN ('closed', 'cancelled'), COUNT(*) FROM sales_order "
                               f"WHERE order_date < '{first_month.isoformat()}' GROUP BY 1"))
        assert old.get(True, 0) >= 0.9 * (old.get(True, 0) + old.get(False, 0))
        assert {"approved", "invoiced"} <= open_orders and len(open_orders) >= 3
        reserved = conn.execute(text("SELECT SUM(r.quantity) FROM stock_reservation r JOIN sales_order_line l "
                                     "ON l.id = r.sales_order_line_id JOIN sales_order o ON o.id = l.sales_order_id "
                                     "WHERE o.status = 'approved'")).scalar_one()
        assert reserved > 0
        shipped_not_billed = conn.execute(text(
            "SELECT COUNT(*) FROM shipment_line WHERE qty_invoiced < quantity")).scalar_one()
        unpaid = conn.execute(text("SELECT COUNT(*) FROM customer_invoice WHERE status = 'posted'")).scalar_one()
        received_not_billed = conn.execute(text(
            "SELECT COUNT(*) FROM purchase_order_line WHERE qty_invoiced < qty_received")).scalar_one()
        unpaid_bills = conn.execute(text(
            "SELECT COUNT(*) FROM supplier_invoice WHERE status = 'matched'")).scalar_one()
        paid_bills = conn.execute(text("SELECT COUNT(*) FROM supplier_invoice WHERE status = 'paid'")).scalar_one()
    assert shipped_not_billed > 0 and unpaid > 0 and received_not_billed > 0 and unpaid_bills > 0 and paid_bills > 0
    stages = seeded.summary.open_documents
    assert stages["customer_invoice.unpaid"] == unpaid
    assert stages["supplier_invoice.unpaid"] == unpaid_bills


def test_journal_numbers_are_gap_free_per_year_in_date_order(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        entries = _rows(conn, "SELECT number, entry_date FROM journal_entry")
    by_year: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for number, day in entries:
        match = re.fullmatch(r"JE-(\d{4})-(\d{7})", str(number))
        assert match, number
        assert str(day).startswith(match.group(1))
        by_year[int(match.group(1))].append((int(match.group(2)), str(day)))
    for numbered in by_year.values():
        numbered.sort()
        assert [n for n, _ in numbered] == list(range(1, len(numbered) + 1))
        assert [d for _, d in numbered] == sorted(d for _, d in numbered)


def test_document_sequences_continue_after_the_seeded_numbers(seeded: Seeded) -> None:
    prefixes = {"sales_order": "SO", "shipment": "SHP", "customer_invoice": "INV", "customer_receipt": "RCT",
                "purchase_order": "PO", "goods_receipt": "GRN", "supplier_invoice": "SINV",
                "supplier_payment": "PAY", "journal_entry": "JE", "purchase_requisition": "PR", "work_order": "WO",
                "customer_return": "CRN", "supplier_return": "SRN"}
    with seeded.engine.connect() as conn:
        sequences = {(t, int(y)): int(v) for t, y, v in _rows(conn, "SELECT doc_type, year, next_value "
                                                                   "FROM document_sequence")}
        highest: dict[tuple[str, int], int] = {}
        for table, prefix in prefixes.items():
            for (number,) in _rows(conn, f"SELECT number FROM {table}"):
                _, year, value = str(number).split("-")
                assert str(number).startswith(prefix + "-")
                key = (table, int(year))
                highest[key] = max(highest.get(key, 0), int(value))
    assert sequences == {key: value + 1 for key, value in highest.items()}


def test_the_bank_never_goes_negative(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        days = _rows(conn, "SELECT je.entry_date, SUM(jl.debit - jl.credit) FROM journal_line jl "
                           "JOIN journal_entry je ON je.id = jl.journal_entry_id JOIN account a ON a.id = jl.account_id "
                           "WHERE a.role = 'bank' GROUP BY je.entry_date ORDER BY je.entry_date")
    balance = Decimal(0)
    for _, movement in days:
        balance += Decimal(str(movement))
        assert balance >= 0
    assert seeded.summary.capital > 0


def test_progress_reports_every_day_and_the_finish(seeded: Seeded) -> None:
    total = DAYS + 1
    assert seeded.ticks[0] == (1, total)
    assert seeded.ticks[-1] == (total, total)
    assert len(seeded.ticks) == total


def test_history_holds_returns_and_cancelled_receipts_and_payments_that_net_to_zero(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        counts = [conn.execute(text(sql)).scalar_one() for sql in (
            "SELECT COUNT(*) FROM customer_return", "SELECT COUNT(*) FROM supplier_return",
            "SELECT COUNT(*) FROM customer_receipt WHERE status = 'cancelled'",
            "SELECT COUNT(*) FROM supplier_payment WHERE status = 'cancelled'")]
        reversals = conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE reversal_of_id IS NOT NULL")).scalar_one()
    assert all(n > 0 for n in counts), counts
    assert reversals == counts[2] + counts[3]
    assert run_check(seeded.engine, only=["returns_within_source", "returns_posted", "reversals_net_to_zero",
                                          "cancellations_reversed"]).ok
