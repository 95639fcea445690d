"""Seeded plan-to-produce follows the live rules: BOMs of manufactured items, work orders through their life
cycle whose WIP postings, issue values and costs agree, and a shipping instruction for every approved order."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from erpcore.domain.production import receipt_value
from tests.integration.seed.conftest import Seeded

CENT = Decimal("0.01")


def _d(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


def test_manufactured_items_have_boms_and_work_orders_that_ran_through(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        made = conn.execute(text("SELECT i.id FROM item i JOIN bill_of_materials b ON b.item_id = i.id "
                                 "WHERE i.procurement = 'manufactured'")).scalars().all()
        statuses: dict[str, int] = dict(conn.execute(text("SELECT status, COUNT(*) FROM work_order GROUP BY status")).all())
        orders = conn.execute(text("SELECT id, quantity, qty_received, issued_cost, received_cost, variance_amount, "
                                   "status FROM work_order")).all()
    assert len(made) >= 2 and statuses.get("closed", 0) >= 3, statuses
    assert seeded.summary.rows["work_order"] == sum(statuses.values())
    for wo in orders:
        if wo.status in ("received", "closed"):
            # finished goods enter at the rolled-up actual cost: all of it, or the received units' share
            assert _d(wo.received_cost) == receipt_value(_d(wo.issued_cost), Decimal(str(wo.quantity)),
                                                         Decimal(str(wo.qty_received))), wo
        if wo.status == "closed":
            assert _d(wo.received_cost) + _d(wo.variance_amount) == _d(wo.issued_cost), wo


def test_each_work_order_posts_its_issue_receipt_and_variance(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        posted = conn.execute(text(
            "SELECT je.source_id, je.event, a.role, SUM(jl.debit - jl.credit) FROM journal_line jl "
            "JOIN journal_entry je ON je.id = jl.journal_entry_id JOIN account a ON a.id = jl.account_id "
            "WHERE je.source_type = 'work_order' GROUP BY je.source_id, je.event, a.role")).all()
        orders = {r.id: r for r in conn.execute(text(
            "SELECT id, issued_cost, received_cost, variance_amount FROM work_order"))}
        moved: dict[int, Any] = dict(conn.execute(text("SELECT source_id, -SUM(value_amount) FROM stock_move "
                                       "WHERE source_type = 'work_order' AND event = 'issue' GROUP BY source_id")).all())
    entries: dict[tuple[int, str], dict[str, Decimal]] = {}
    for source_id, event, role, amount in posted:
        entries.setdefault((int(source_id), event), {})[role] = _d(amount)
    assert entries, "no work order posted anything"
    for (wo_id, event), entry in entries.items():
        wo = orders[wo_id]
        if event == "issue":
            assert entry == {"work_in_progress": _d(wo.issued_cost), "inventory": -_d(wo.issued_cost)}
            assert _d(moved[wo_id]) == _d(wo.issued_cost)
        elif event == "receive":
            assert entry == {"inventory": _d(wo.received_cost), "work_in_progress": -_d(wo.received_cost)}
        else:
            assert event == "close"
            assert entry == {"production_variance": _d(wo.variance_amount),
                             "work_in_progress": -_d(wo.variance_amount)}


def test_every_approved_order_has_its_shipping_instruction(seeded: Seeded) -> None:
    with seeded.engine.connect() as conn:
        missing = conn.execute(text("SELECT COUNT(*) FROM sales_order o WHERE o.status <> 'draft' AND NOT EXISTS "
                                    "(SELECT 1 FROM shipping_instruction s WHERE s.sales_order_id = o.id)")).scalar()
        sample = conn.execute(text("SELECT s.lines, o.id FROM shipping_instruction s JOIN sales_order o "
                                   "ON o.id = s.sales_order_id ORDER BY s.id LIMIT 1")).one()
        lines = conn.execute(text("SELECT line_no, item_id, quantity FROM sales_order_line WHERE sales_order_id = :o "
                                  "ORDER BY line_no"), {"o": sample.id}).all()
    body = sample.lines if isinstance(sample.lines, list) else json.loads(sample.lines)
    assert missing == 0
    assert [(x["line_no"], x["item_id"], Decimal(x["quantity"])) for x in body] == [
        (n, i, Decimal(str(q))) for n, i, q in lines]
