"""Order-to-cash documents: sales order -> reservation -> shipment -> customer invoice -> receipt.

Each line links to its source line; the derived quantities (reserved, shipped, invoiced) and the
statuses are maintained from those links in the same transaction, and `erpops check` re-derives them.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk, money, qty, status


class SalesOrder(Timestamped, Base):
    __tablename__ = "sales_order"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    order_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]
    backorder_allowed: Mapped[bool] = mapped_column(default=True)
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    approved_at: Mapped[dt.datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(80))  # the actor who entered it (segregation of duties)


class SalesOrderLine(Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (
        UniqueConstraint("sales_order_id", "line_no"),
        CheckConstraint("quantity > 0 AND unit_price >= 0", name="positive"),
        CheckConstraint("qty_shipped >= 0 AND qty_shipped <= quantity", name="shipped_within_ordered"),
        CheckConstraint("qty_invoiced >= 0 AND qty_invoiced <= qty_shipped", name="invoiced_within_shipped"),
    )

    id: Mapped[intpk]
    sales_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"))  # led by the unique (sales_order_id, line_no)
    line_no: Mapped[int]
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    quantity: Mapped[qty]
    unit_price: Mapped[money]
    tax_rate: Mapped[Decimal]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0), server_default="0")
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    qty_shipped: Mapped[qty]
    qty_invoiced: Mapped[qty]


class StockReservation(Timestamped, Base):
    """Open reserved quantity of one sales order line in its warehouse."""

    __tablename__ = "stock_reservation"
    __table_args__ = (CheckConstraint("quantity >= 0", name="quantity_positive"),)

    id: Mapped[intpk]
    sales_order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sales_order_line.id"), unique=True
    )
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    quantity: Mapped[qty]


Index("ix_stock_reservation_item_wh", StockReservation.item_id, StockReservation.warehouse_id)


class Shipment(Timestamped, Base):
    __tablename__ = "shipment"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    sales_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    ship_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]  # posted | cancelled
    cost_amount: Mapped[money]


class ShipmentLine(Base):
    __tablename__ = "shipment_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[intpk]
    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipment.id"), index=True)
    sales_order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("sales_order_line.id"), index=True
    )
    reservation_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("stock_reservation.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    unit_cost: Mapped[money]
    cost_amount: Mapped[money]
    qty_invoiced: Mapped[qty]


class CustomerInvoice(Timestamped, Base):
    __tablename__ = "customer_invoice"
    __table_args__ = (CheckConstraint("amount_paid >= 0 AND amount_paid <= total_amount", name="paid_within_total"),)

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)  # gap-free, given at posting
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    sales_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"), index=True)
    invoice_date: Mapped[dt.date] = mapped_column(Date, index=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[status]  # posted | paid | cancelled
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    total_amount: Mapped[money]
    amount_paid: Mapped[money]


class CustomerInvoiceLine(Base):
    __tablename__ = "customer_invoice_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[intpk]
    customer_invoice_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_invoice.id"), index=True
    )
    shipment_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipment_line.id"), index=True)
    sales_order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order_line.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    unit_price: Mapped[money]
    tax_rate: Mapped[Decimal]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0), server_default="0")
    net_amount: Mapped[money]
    tax_amount: Mapped[money]


class CustomerReceipt(Timestamped, Base):
    __tablename__ = "customer_receipt"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    customer_invoice_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("customer_invoice.id"), index=True
    )
    receipt_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[money]
    status: Mapped[status]  # posted | cancelled
