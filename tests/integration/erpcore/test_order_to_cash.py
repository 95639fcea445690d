from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from erpcore.models import (
    CustomerInvoice,
    JournalEntry,
    SalesOrder,
    SalesOrderLine,
    ShipmentLine,
    StockBalance,
)
from erpcore.services import sales
from erpcore.services.bootstrap import Erp
from erpcore.services.sales import OrderLineInput
from tests.factories import make_world, reserved, stock_up


def test_order_to_cash_posts_every_step(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10", price="6.00")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal("4"))]).id
    assert reserved(sales.approve_sales_order(erp.uow(), so)) == {1: Decimal("4")}
    sales.ship_sales_order(erp.uow(), so)
    inv = sales.invoice_sales_order(erp.uow(), so).id
    sales.record_customer_receipt(erp.uow(), inv)
    with erp.session_factory() as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so)) == "closed"
        invoice = s.get(CustomerInvoice, inv)
        assert invoice is not None and invoice.total_amount == Decimal("48.00")
        assert invoice.number == f"INV-{invoice.invoice_date.year}-0000001"  # the year's first legal number
        assert invoice.status == "paid"
        bal = s.get(StockBalance, (w.item_id, 1))
        assert bal is not None and bal.on_hand == Decimal("6") and bal.reserved == 0
        assert bal.value_amount == Decimal("36.00")
        # goods receipt, shipment, invoice, receipt
        assert s.scalar(select(func.count()).select_from(JournalEntry)) == 4


def test_two_shipments_of_a_line_invoiced_together_count_once_each(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10", price="6.00")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, Decimal("5"))]).id
    sales.approve_sales_order(erp.uow(), so)
    sales.ship_sales_order(erp.uow(), so, {1: Decimal("2")})
    sales.ship_sales_order(erp.uow(), so, {1: Decimal("3")})
    inv = sales.invoice_sales_order(erp.uow(), so).id
    with erp.session_factory() as s:
        line = s.scalars(select(SalesOrderLine).where(SalesOrderLine.sales_order_id == so)).one()
        assert (line.qty_shipped, line.qty_invoiced) == (Decimal("5"), Decimal("5"))
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so)) == "invoiced"
        assert s.scalar(select(CustomerInvoice.net_amount).where(CustomerInvoice.id == inv)) == Decimal("50.00")
        assert s.scalar(select(func.sum(ShipmentLine.qty_invoiced))) == Decimal("5")
    sales.record_customer_receipt(erp.uow(), inv)
    with erp.session_factory() as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so)) == "closed"
