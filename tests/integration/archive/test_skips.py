"""What stays in production, and why: open documents, references from rows that stay, open periods."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from archive.periods import closed_through
from archive.plan import make_plan
from archive.runner import run_archive
from erpcore.check import run_check
from tests.integration.archive.conftest import TODAY, Pair

SALES = ["purchase_orders", "purchase_requisitions", "sales_orders"]


def _oldest_paid_invoice(pair: Pair) -> tuple[str, str]:
    with pair.source.connect() as conn:
        number, order = conn.execute(text(
            "SELECT i.number, o.number FROM customer_invoice i JOIN sales_order o ON o.id = i.sales_order_id "
            "WHERE i.status = 'paid' ORDER BY i.invoice_date, i.id LIMIT 1")).one()
    return number, order


def test_an_open_invoice_keeps_its_order_and_ledger_rows(pair: Pair) -> None:
    invoice, order = _oldest_paid_invoice(pair)
    with pair.source.begin() as conn:  # reopened: status is the one column a posted invoice may change
        conn.execute(text("UPDATE customer_invoice SET status = 'posted' WHERE number = :n"), {"n": invoice})
        conn.execute(text("UPDATE sales_order SET status = 'invoiced' WHERE number = :n"), {"n": order})
    ax = pair.archive()
    plan = make_plan(ax, SALES, today=TODAY)
    sales = next(f for f in plan.families if f.family == "sales_orders")
    assert sales.skipped.get("open", 0) >= 1
    result = run_archive(ax, today=TODAY)
    assert result.check_ok
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sales_order WHERE number = :n"), {"n": order}).scalar_one() == 1
        stays = conn.execute(text(
            "SELECT COUNT(*) FROM journal_entry je JOIN customer_invoice i ON je.source_id = i.id "
            "AND je.source_type = 'customer_invoice' WHERE i.number = :n"), {"n": invoice}).scalar_one()
    assert stays == 1
    reasons = [s.reason for s in plan.families[2].examples + result.examples]
    assert any(f"{invoice} is posted" in r for r in reasons) or result.skipped.get("open", 0) >= 1


def test_an_open_requisition_keeps_the_order_it_references(pair: Pair) -> None:
    with pair.source.begin() as conn:
        req, line, order = conn.execute(text(
            "SELECT r.number, r.sales_order_line_id, o.number FROM purchase_requisition r "
            "JOIN sales_order_line l ON l.id = r.sales_order_line_id JOIN sales_order o ON o.id = l.sales_order_id "
            "ORDER BY r.id LIMIT 1")).one()
        conn.execute(text("UPDATE purchase_requisition SET status = 'open' WHERE number = :n"), {"n": req})
    ax = pair.archive()
    result = run_archive(ax, families=SALES, today=TODAY)
    assert result.skipped.get("referenced", 0) >= 1
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sales_order WHERE number = :n"), {"n": order}).scalar_one() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM sales_order_line WHERE id = :i"), {"i": line}).scalar_one() == 1
    assert run_check(pair.source).ok


def test_nothing_moves_after_the_last_closed_period(pair: Pair) -> None:
    with pair.source.begin() as conn:  # 2023 and later reopened
        conn.execute(text("UPDATE fiscal_period SET status = 'open' WHERE start_date > '2022-12-31'"))
    ax = pair.archive(closed_through=dt.date(2025, 12, 31))
    plan = make_plan(ax, ["sales_orders"], today=TODAY)
    sales = plan.families[0]
    assert sales.until == dt.date(2022, 12, 31)
    assert plan.closed_source == "table fiscal_period (closed periods)"  # the table wins over the setting
    with pair.source.connect() as conn:
        latest = conn.execute(text("SELECT MAX(order_date) FROM sales_order")).scalar_one()
    assert sales.movable == 0 or str(latest) > "2022-12-31"
    result = run_archive(ax, families=["sales_orders"], today=TODAY)
    with pair.dest.connect() as conn:
        newest = conn.execute(text("SELECT MAX(order_date) FROM sales_order")).scalar()
    assert result.rows == 0 or str(newest) <= "2022-12-31"


def test_a_fiscal_period_table_wins_over_the_setting(pair: Pair) -> None:
    with pair.source.begin() as conn:  # erpcore's own fiscal_period table, with periods of these shapes
        conn.execute(text("DELETE FROM fiscal_period"))
        for i, (start, end, status) in enumerate([("2022-01-01", "2022-12-31", "closed"),
                                                  ("2023-01-01", "2023-06-30", "closed"),
                                                  ("2023-07-01", "2023-12-31", "open"),
                                                  ("2024-01-01", "2024-12-31", "closed")]):
            conn.execute(text("INSERT INTO fiscal_period (id, year, month, start_date, end_date, status, closed_at) "
                              "VALUES (:i, :y, :m, :s, :e, :st, :at)"),
                         {"i": i + 1, "y": int(start[:4]), "m": int(start[5:7]), "s": start, "e": end, "st": status,
                          "at": "2024-01-01 00:00:00" if status == "closed" else None})
    with pair.source.connect() as conn:
        found = closed_through(conn, dt.date(2025, 12, 31), TODAY)
    assert found.date == dt.date(2023, 6, 30)  # the first open period stops the closed run
    assert found.source == "table fiscal_period (closed periods)"
    plan = make_plan(pair.archive(), ["sales_orders"], today=TODAY)
    assert plan.closed_through == dt.date(2023, 6, 30)
    assert plan.families[0].until == dt.date(2023, 6, 29)  # the residence time binds one day earlier
