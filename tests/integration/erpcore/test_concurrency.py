"""Many clients writing at once on PostgreSQL: no deadlock, no lost update, legal numbers without gaps."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from erpcore.check import run_check
from erpcore.exceptions import InsufficientStock
from erpcore.models import CustomerInvoice, JournalEntry, StockBalance
from erpcore.services import purchasing, sales
from erpcore.services.bootstrap import Erp
from erpcore.services.purchasing import PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import make_world, stock_up

CLIENTS = 24


@pytest.mark.pg
def test_concurrent_order_to_cash_chains_and_receipts_stay_consistent(erp: Erp) -> None:
    w = make_world(erp, safety="5", reorder="10")
    second = make_world(erp)
    stock_up(w, "60", price="4.00")
    stock_up(second, "60", price="3.00")
    pos = []
    for _ in range(6):
        po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [
            PurchaseLineInput(w.item_id, Decimal(5), Decimal("5.00")),
            PurchaseLineInput(second.item_id, Decimal(5), Decimal("2.00"))]).id
        purchasing.approve_purchase_order(erp.uow(), po)
        pos.append(po)

    def chain(n: int) -> str:
        # half the orders list the items in the other order: lock ordering must still prevent deadlocks
        items = [w.item_id, second.item_id] if n % 2 else [second.item_id, w.item_id]
        so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(i, Decimal(3)) for i in items]).id
        try:
            sales.approve_sales_order(erp.uow(), so)
            sales.ship_sales_order(erp.uow(), so)
        except InsufficientStock:
            return "short"
        inv = sales.invoice_sales_order(erp.uow(), so).id
        sales.record_customer_receipt(erp.uow(), inv)
        return "done"

    def receive(po: int) -> str:
        purchasing.receive_goods(erp.uow(), po)
        return "received"

    with ThreadPoolExecutor(max_workers=12) as pool:
        jobs = [pool.submit(chain, n) for n in range(CLIENTS)] + [pool.submit(receive, po) for po in pos]
        outcomes = [job.result(timeout=120) for job in jobs]  # any deadlock or 500-class error raises here
    assert outcomes.count("received") == len(pos)
    done = outcomes.count("done")
    assert done >= 20  # 60 units of each item on hand cover 20 orders of 3; the receipts may cover the rest
    with erp.session_factory() as s:
        numbers = s.scalars(select(JournalEntry.number)).all()
        assert sorted(int(n.rsplit("-", 1)[1]) for n in numbers) == list(range(1, len(numbers) + 1))
        invoices = s.scalars(select(CustomerInvoice.number)).all()
        assert sorted(int(n.rsplit("-", 1)[1]) for n in invoices) == list(range(1, done + 1))
        shipped = s.scalar(select(func.sum(StockBalance.on_hand)).where(
            StockBalance.item_id.in_([w.item_id, second.item_id])))
        assert shipped == Decimal(60 + 60 + 30 + 30 - 6 * done)
    report = run_check(erp.engine)
    assert report.ok, [v.message for v in report.violations]
