"""Archive and restore on both engines: exact counts and hashes, ledgers and `erpops check` unchanged."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text

from archive.families import CARRY_FORWARD_SOURCE
from archive.plan import make_plan
from archive.restore import Selection, restore
from archive.runner import run_archive
from archive.verify import verify
from erpcore.check import run_check
from erpcore.reports import stock_valuation, trial_balance
from tests.integration.archive.conftest import TODAY, Pair, table_digests

NEW_CHAINS = ["shipping_instruction", "customer_return", "customer_return_line", "supplier_return",
              "supplier_return_line", "work_order", "work_order_line"]
OPEN_PERIOD = (dt.date(2025, 1, 1), TODAY)




def test_archive_then_restore_is_exact(pair: Pair) -> None:
    ax = pair.archive()
    moved = [t for closure in ax.closures.values() for t in closure.tables]  # from the schema
    assert set(NEW_CHAINS) <= set(moved)
    before = table_digests(pair.source, moved)
    assert all(before[name].rows > 0 for name in NEW_CHAINS), {n: before[n].rows for n in NEW_CHAINS}
    tb_before = trial_balance(pair.source, *OPEN_PERIOD)
    stock_before = stock_valuation(pair.source)
    plan = make_plan(ax, today=TODAY)
    assert "composite primary key" in {f.family: f.skipped_reason for f in plan.families}["payroll_runs"]
    sales = next(f for f in plan.families if f.family == "sales_orders")
    assert sales.movable > 0 and sales.rows > sales.movable

    result = run_archive(ax, today=TODAY)

    assert result.state == "done" and result.check_ok, result.check_violations
    assert result.rows > 0 and set(result.family_rows) >= {"sales_orders", "journal_entries", "stock_moves"}
    after_source = table_digests(pair.source, moved)
    archived = table_digests(pair.dest, moved, dest=True)
    cf_rows = _carry_forward_digests(pair)
    for name in moved:
        assert (after_source[name] + archived[name]).rows == before[name].rows + cf_rows.get(name, 0), name
    for name in ("sales_order", "sales_order_line", "customer_invoice", "purchase_order", "shipment_line",
                 *NEW_CHAINS):
        assert after_source[name] + archived[name] == before[name], name
    assert {n: archived[n].rows > 0 for n in NEW_CHAINS} == dict.fromkeys(NEW_CHAINS, True)
    assert trial_balance(pair.source, *OPEN_PERIOD) == tb_before
    assert stock_valuation(pair.source) == stock_before
    checked = verify(ax)
    assert checked.ok and not checked.archive_check_violations
    assert {"journal_entries_balance", "trial_balance_zero", "reversals_net_to_zero", "shipped_quantities_derived",
            "invoiced_quantities_derived", "customer_payments_derived"} <= set(checked.archive_checked)

    back = restore(ax, Selection(date_from=dt.date(2000, 1, 1)))

    assert back.rows == result.rows
    assert table_digests(pair.source, moved) == before
    assert run_check(pair.source).ok
    assert trial_balance(pair.source, *OPEN_PERIOD) == tb_before
    with pair.dest.connect() as conn:
        assert conn.execute(select(func.count()).select_from(text("sales_order"))).scalar_one() == 0


def _carry_forward_digests(pair: Pair) -> dict[str, int]:
    with pair.source.connect() as conn:
        entries = conn.execute(text("SELECT COUNT(*) FROM journal_entry WHERE source_type = :s"),
                               {"s": CARRY_FORWARD_SOURCE}).scalar_one()
        lines = conn.execute(text("SELECT COUNT(*) FROM journal_line l JOIN journal_entry e ON e.id = "
                                  "l.journal_entry_id WHERE e.source_type = :s"), {"s": CARRY_FORWARD_SOURCE}).scalar_one()
        moves = conn.execute(text("SELECT COUNT(*) FROM stock_move WHERE source_type = :s"),
                             {"s": CARRY_FORWARD_SOURCE}).scalar_one()
    assert entries > 0 and lines > 0 and moves > 0
    return {"journal_entry": entries, "journal_line": lines, "stock_move": moves}
