"""The business rules of a sales order in its unit of work: prices against cost and the discount limit, tax
data, the customer's credit counting approved orders not yet invoiced, and the facts approval rules read.
Its statements are built once (see `Query`): they run on every order written."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, bindparam, case, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY

from erpcore.domain import rules
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.rules import Finding, Mode
from erpcore.domain.status import InvoiceStatus, SalesOrderStatus
from erpcore.models import Customer, CustomerInvoice, Item, SalesOrder, SalesOrderLine, StockBalance
from erpcore.services import controls
from erpcore.services.sql import Query
from erpcore.services.unit_of_work import UnitOfWork

UNINVOICED = (SalesOrderStatus.APPROVED, SalesOrderStatus.PARTLY_SHIPPED, SalesOrderStatus.SHIPPED)
_AVERAGE = case((StockBalance.on_hand > 0, StockBalance.value_amount / StockBalance.on_hand), else_=None)
_COSTS = (select(Item.id, Item.standard_cost, Item.list_price, _AVERAGE.label("average"),
                 select(Customer.tax_id).where(Customer.id == bindparam("customer_id")).scalar_subquery()
                 .label("tax_id"), controls.EPOCH_COLUMN, controls.VERSION_COLUMN)
          .outerjoin(StockBalance, (StockBalance.item_id == Item.id)
                     & (StockBalance.warehouse_id == bindparam("warehouse_id"))))
COSTS = Query(_COSTS.where(Item.id.in_(bindparam("ids", expanding=True))),
              postgresql=_COSTS.where(Item.id == func.any(bindparam("ids", type_=ARRAY(BigInteger)))))
_SHARE = (SalesOrderLine.quantity - SalesOrderLine.qty_invoiced) / SalesOrderLine.quantity
EXPOSURE = Query(select(
    select(func.coalesce(func.sum(CustomerInvoice.total_amount - CustomerInvoice.amount_paid), 0))
    .where(CustomerInvoice.customer_id == bindparam("customer_id"), CustomerInvoice.status == InvoiceStatus.POSTED)
    .scalar_subquery().label("open_ar"),
    select(func.coalesce(func.sum(_SHARE * (SalesOrderLine.net_amount + SalesOrderLine.tax_amount)), 0))
    .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
    .where(SalesOrder.customer_id == bindparam("customer_id"), SalesOrder.id != bindparam("order_id"),
           or_(*(SalesOrder.status == s.value for s in UNINVOICED))).scalar_subquery().label("uninvoiced"),
    select(SalesOrder.net_amount + SalesOrder.tax_amount).where(SalesOrder.id == bindparam("order_id"))
    .scalar_subquery().label("total"),
    select(Customer.code).where(Customer.id == bindparam("customer_id")).scalar_subquery().label("code")))
FACTS = Query(select(SalesOrder.net_amount, Customer.code, SalesOrderLine.discount_percent, Item.category,
                     controls.EPOCH_COLUMN, controls.VERSION_COLUMN)
              .join(Customer, Customer.id == SalesOrder.customer_id)
              .join(SalesOrderLine, SalesOrderLine.sales_order_id == SalesOrder.id)
              .join(Item, Item.id == SalesOrderLine.item_id)
              .where(SalesOrder.id == bindparam("order_id")))


def order_findings(uow: UnitOfWork, document: str, customer_id: int, warehouse_id: int,
                   rows: Sequence[Mapping[str, Any]], item_rates: Mapping[int, Decimal]) -> list[Finding]:
    """Price, discount and tax controls on the lines a new order is about to write (one round trip reads the
    items' costs, the customer's tax id and the rulebook's version)."""
    found = COSTS.rows(uow.conn, {"ids": sorted({r["item_id"] for r in rows}), "warehouse_id": warehouse_id,
                                  "customer_id": customer_id})
    cost = {r.id: (to_cents(Decimal(r.average if r.average is not None else r.standard_cost)), Decimal(r.list_price))
            for r in found}
    book = controls.rulebook(uow.conn, controls.stamp_of(found[0]))
    price, discount, tax = (book.controls[n] for n in ("price_below_cost", "discount_limit", "tax_data"))
    findings: list[Finding] = []
    if price.mode is not Mode.OFF or discount.mode is not Mode.OFF:
        findings += rules.check_prices(price, discount, document, [
            rules.SalesLineFacts(r["line_no"], r["unit_price"], r["discount_percent"], *cost[r["item_id"]])
            for r in rows])
    if tax.mode is not Mode.OFF:
        tax_id = found[0].tax_id
        total = sum((r["net_amount"] + r["tax_amount"] for r in rows), ZERO)
        findings += rules.check_tax(tax, document, [
            rules.TaxLineFacts(r["line_no"], r["net_amount"], r["tax_amount"], r["tax_rate"], item_rates[r["item_id"]])
            for r in rows], total, tax_id)
    return findings


def credit_findings(uow: UnitOfWork, order: Any, order_id: int, book: controls.Rulebook) -> list[Finding]:
    """The credit control: open invoices, approved orders not yet invoiced and this order against the limit."""
    limit = Decimal(order.credit_limit or ZERO)
    if limit <= 0:  # no limit: spare the reads
        return []
    control = book.controls["credit_limit"]
    if control.mode is Mode.OFF:
        return []
    row = EXPOSURE.one(uow.conn, {"customer_id": order.customer_id, "order_id": order_id})
    return rules.check_credit(control, row.code, limit, Decimal(row.open_ar), to_cents(Decimal(row.uninvoiced)),
                              Decimal(row.total))


def facts(uow: UnitOfWork, order_id: int) -> tuple[rules.Facts, controls.Rulebook]:
    """What the approval rules look at in a sales order (amount, customer, item categories, largest discount),
    and the rulebook in force, in one round trip."""
    lines = FACTS.rows(uow.conn, {"order_id": order_id})
    found = rules.Facts("sales_order", Decimal(lines[0].net_amount), customer=lines[0].code,
                        categories=frozenset(r.category for r in lines if r.category),
                        max_discount=max(Decimal(r.discount_percent) for r in lines))
    return found, controls.rulebook(uow.conn, controls.stamp_of(lines[0]))
