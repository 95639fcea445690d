"""The chains main added (plan-to-produce, returns, payroll) under the archive: what moves with an order, what
holds it, and what stays whole in production."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from archive.candidates import Skip, scan
from archive.context import Archive
from archive.periods import closed_through
from archive.plan import limits_for
from archive.runner import run_archive
from archive.sidecheck import check_archive_side
from erpcore.audit import verify_trail
from tests.integration.archive.conftest import TODAY, Pair


def judge(ax: Archive, family: str, root_id: int) -> tuple[list[Any], list[Skip]]:
    """One root judged alone: (movable ids, skips)."""
    with ax.source.connect() as conn:
        limits = limits_for(ax, family, closed_through(conn, ax.settings.closed_through, TODAY), TODAY)
        assert limits is not None
        window = scan(conn, ax.closures[family], ax.tables, limits, root_id - 1, 1)
    assert window.scanned == 1
    return window.movable, window.skipped


def _old_order_with(pair: Pair, sql: str) -> tuple[int, int, str]:
    with pair.source.connect() as conn:
        row = conn.execute(text(sql)).one()
    return row[0], row[1], row[2]


def test_an_order_takes_its_shipping_instruction_and_returns_with_their_entries(pair: Pair) -> None:
    order_id, return_id, number = _old_order_with(pair, (
        "SELECT o.id, r.id, r.number FROM sales_order o JOIN customer_return r ON r.sales_order_id = o.id "
        "WHERE o.status = 'closed' AND o.order_date < '2023-06-01' ORDER BY o.id LIMIT 1"))
    ax = pair.archive()
    movable, skips = judge(ax, "sales_orders", order_id)
    assert movable == [order_id], skips
    result = run_archive(ax, today=TODAY)
    assert result.check_ok, result.check_violations
    with pair.dest.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customer_return WHERE id = :r"), {"r": return_id}).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM customer_return_line WHERE customer_return_id = :r"),
                            {"r": return_id}).scalar_one() > 0
        assert conn.execute(text("SELECT COUNT(*) FROM shipping_instruction WHERE sales_order_id = :o"),
                            {"o": order_id}).scalar_one() == 1
        credit_notes = conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = 'customer_return' "
                                         "AND source_id = :r"), {"r": return_id}).scalar_one()
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = 'customer_return' "
                                 "AND source_id = :r"), {"r": return_id}).scalar_one() == 0
    assert credit_notes >= 1, number


def test_a_purchase_order_takes_its_supplier_returns(pair: Pair) -> None:
    order_id, return_id, _ = _old_order_with(pair, (
        "SELECT p.id, r.id, r.number FROM purchase_order p JOIN supplier_return r ON r.purchase_order_id = p.id "
        "WHERE p.status = 'closed' AND p.order_date < '2023-06-01' ORDER BY p.id LIMIT 1"))
    ax = pair.archive()
    assert judge(ax, "purchase_orders", order_id)[0] == [order_id]
    with pair.source.begin() as conn:  # a return not yet posted holds its order
        conn.execute(text("UPDATE supplier_return SET status = 'draft' WHERE id = :r"), {"r": return_id})
    movable, skips = judge(ax, "purchase_orders", order_id)
    assert movable == [] and skips[0].kind == "open" and skips[0].reason.endswith(" is draft")


def test_an_open_return_or_work_order_holds_the_sales_order(pair: Pair) -> None:
    order_id, line_id, _ = _old_order_with(pair, (
        "SELECT o.id, l.id, o.number FROM sales_order o JOIN sales_order_line l ON l.sales_order_id = o.id "
        "WHERE o.status = 'closed' AND o.order_date < '2023-06-01' ORDER BY o.id LIMIT 1"))
    work_order_id, number, _ = _old_order_with(pair, (
        "SELECT id, number, 0 FROM work_order WHERE status = 'closed' AND close_date < '2023-06-01' "
        "ORDER BY id LIMIT 1"))
    with pair.source.begin() as conn:  # the seed makes work orders by hand: this one was made for the order
        conn.execute(text("UPDATE work_order SET sales_order_line_id = :l WHERE id = :w"),
                     {"l": line_id, "w": work_order_id})
    ax = pair.archive()
    movable, skips = judge(ax, "sales_orders", order_id)
    assert movable == [] and skips[0].kind == "referenced" and f"work_order {work_order_id}" in skips[0].reason  # until it leaves
    assert judge(ax, "work_orders", work_order_id)[0] == [work_order_id]
    with pair.source.begin() as conn:
        conn.execute(text("UPDATE work_order SET status = 'released' WHERE id = :w"), {"w": work_order_id})
    assert judge(ax, "work_orders", work_order_id)[1][0].reason == f"{number} is released"
    run_archive(ax, families=["work_orders", "sales_orders"], today=TODAY, check=False)
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM sales_order WHERE id = :o"), {"o": order_id}).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM work_order WHERE id = :w"), {"w": work_order_id}).scalar() == 1


def test_a_return_not_posted_holds_its_sales_order(pair: Pair) -> None:
    order_id, return_id, _ = _old_order_with(pair, (
        "SELECT o.id, r.id, r.number FROM sales_order o JOIN customer_return r ON r.sales_order_id = o.id "
        "WHERE o.status = 'closed' AND o.order_date < '2023-06-01' ORDER BY o.id LIMIT 1"))
    with pair.source.begin() as conn:
        conn.execute(text("UPDATE customer_return SET status = 'draft' WHERE id = :r"), {"r": return_id})
    ax = pair.archive()
    movable, skips = judge(ax, "sales_orders", order_id)
    assert movable == [] and skips[0].kind == "open" and skips[0].reason.endswith(" is draft")
    run_archive(ax, families=["sales_orders"], today=TODAY, check=False)
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM customer_return WHERE id = :r"), {"r": return_id}).scalar() == 1


def test_payroll_runs_wait_for_a_single_column_key_and_the_audit_trail_stays(pair: Pair) -> None:
    ax = pair.archive()
    assert "payroll_run_department has a composite primary key" in ax.skipped["payroll_runs"]
    # only its own family moves audit entries (none is old enough here: see test_audit_entries)
    assert [name for name, c in ax.closures.items() if "audit_event" in c.tables] == ["audit_entries"]
    with pair.source.connect() as conn:
        runs = conn.execute(text("SELECT COUNT(*) FROM payroll_run")).scalar_one()
        audit = conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one()
    result = run_archive(ax, today=TODAY)
    assert result.check_ok and result.rows > 0, result.check_violations
    with pair.source.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM payroll_run")).scalar_one() == runs > 0
        assert conn.execute(text("SELECT COUNT(*) FROM audit_event")).scalar_one() == audit
        assert conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = 'payroll_run'")).scalar_one() > 0
    trail = verify_trail(pair.source)
    assert trail.ok and trail.checked == audit, trail.reason


def test_the_archive_side_check_runs_the_invariants_it_can_and_catches_a_broken_document(pair: Pair) -> None:
    ax = pair.archive()
    run_archive(ax, today=TODAY)
    side = check_archive_side(ax)
    assert side.ok, side.violations
    assert "reversals_net_to_zero" in side.checked and "invoiced_quantities_derived" in side.checked
    assert "inventory_account_matches_stock" in side.not_applicable  # reads account and stock_balance
    assert "returns_posted" in side.not_applicable  # a return archived, its entry may wait in production
    with pair.dest.begin() as conn:  # one archived line loses a cent: its entry no longer balances
        conn.execute(text("UPDATE journal_line SET debit = debit + 0.01 WHERE id = (SELECT MIN(id) FROM "
                          "journal_line WHERE debit > 0)"))
    broken = check_archive_side(ax)
    assert not broken.ok and any("debits equal its credits" in v for v in broken.violations)
