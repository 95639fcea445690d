"""The business rules of a sales order in its unit of work: prices against cost and the discount limit, tax
data, the customer's credit counting approved orders not yet invoiced, and the facts approval rules read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select

from erpcore.domain import rules
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.rules import Finding
from erpcore.domain.status import InvoiceStatus, SalesOrderStatus
from erpcore.models import Customer, CustomerInvoice, Item, SalesOrder, SalesOrderLine, StockBalance
from erpcore.services import controls
from erpcore.services.unit_of_work import UnitOfWork

UNINVOICED = (SalesOrderStatus.APPROVED, SalesOrderStatus.PARTLY_SHIPPED, SalesOrderStatus.SHIPPED)


def costs(uow: UnitOfWork, item_ids: Sequence[int], warehouse_id: int) -> dict[int, tuple[Decimal, Decimal]]:
    """(cost, list price) per item: the moving-average cost in the warehouse, or standard cost without stock."""
    average = case((StockBalance.on_hand > 0, StockBalance.value_amount / StockBalance.on_hand), else_=None)
    rows = uow.conn.execute(
        select(Item.id, Item.standard_cost, Item.list_price, average.label("average"))
        .outerjoin(StockBalance, (StockBalance.item_id == Item.id) & (StockBalance.warehouse_id == warehouse_id))
        .where(Item.id.in_(list(item_ids))))
    return {r.id: (to_cents(Decimal(r.average if r.average is not None else r.standard_cost)),
                   Decimal(r.list_price)) for r in rows}


def order_findings(uow: UnitOfWork, document: str, customer_id: int, warehouse_id: int,
                   rows: Sequence[Mapping[str, Any]], item_rates: Mapping[int, Decimal]) -> list[Finding]:
    """Price, discount and tax controls on the lines a new order is about to write."""
    found = controls.settings(uow.conn)
    cost = costs(uow, sorted({r["item_id"] for r in rows}), warehouse_id)
    findings = rules.check_prices(found["price_below_cost"], found["discount_limit"], document, [
        rules.SalesLineFacts(r["line_no"], r["unit_price"], r["discount_percent"], *cost[r["item_id"]])
        for r in rows])
    tax_control = found["tax_data"]
    if tax_control.mode is not rules.Mode.OFF:
        tax_id = uow.conn.execute(select(Customer.tax_id).where(Customer.id == customer_id)).scalar_one_or_none()
        total = sum((r["net_amount"] + r["tax_amount"] for r in rows), ZERO)
        findings += rules.check_tax(tax_control, document, [
            rules.TaxLineFacts(r["line_no"], r["net_amount"], r["tax_amount"], r["tax_rate"], item_rates[r["item_id"]])
            for r in rows], total, tax_id)
    return findings


def credit_findings(uow: UnitOfWork, order: Any, order_id: int) -> list[Finding]:
    """The credit control: open invoices, approved orders not yet invoiced and this order against the limit."""
    limit = Decimal(order.credit_limit or ZERO)
    if limit <= 0:
        return []
    control = controls.settings(uow.conn)["credit_limit"]
    conn = uow.conn
    open_ar = conn.execute(select(func.coalesce(func.sum(CustomerInvoice.total_amount - CustomerInvoice.amount_paid),
                                                0)).where(CustomerInvoice.customer_id == order.customer_id,
                                                          CustomerInvoice.status == InvoiceStatus.POSTED)).scalar_one()
    share = (SalesOrderLine.quantity - SalesOrderLine.qty_invoiced) / SalesOrderLine.quantity
    uninvoiced = conn.execute(
        select(func.coalesce(func.sum(share * (SalesOrderLine.net_amount + SalesOrderLine.tax_amount)), 0))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
        .where(SalesOrder.customer_id == order.customer_id, SalesOrder.id != order_id,
               SalesOrder.status.in_([s.value for s in UNINVOICED]))).scalar_one()
    total = conn.execute(select(SalesOrder.net_amount + SalesOrder.tax_amount)
                         .where(SalesOrder.id == order_id)).scalar_one()
    code = conn.execute(select(Customer.code).where(Customer.id == order.customer_id)).scalar_one()
    return rules.check_credit(control, code, limit, Decimal(open_ar), to_cents(Decimal(uninvoiced)), Decimal(total))


def facts(uow: UnitOfWork, order: Any, order_id: int) -> rules.Facts:
    """What the approval rules look at in a sales order: amount, customer, item categories, largest discount."""
    conn = uow.conn
    head = conn.execute(select(SalesOrder.net_amount, Customer.code).join(Customer, Customer.id == SalesOrder.customer_id)
                        .where(SalesOrder.id == order_id)).one()
    lines = conn.execute(select(SalesOrderLine.discount_percent, Item.category)
                         .join(Item, Item.id == SalesOrderLine.item_id)
                         .where(SalesOrderLine.sales_order_id == order_id)).all()
    return rules.Facts("sales_order", Decimal(head.net_amount), customer=head.code,
                       categories=frozenset(r.category for r in lines if r.category),
                       max_discount=max((Decimal(r.discount_percent) for r in lines), default=ZERO))
