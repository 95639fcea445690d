"""Procure-to-pay documents: requisition -> purchase order -> goods receipt -> supplier invoice -> payment."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Amount, Base, BigId, Timestamped, intpk, money, qty, status


class PurchaseRequisition(Timestamped, Base):
    __tablename__ = "purchase_requisition"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    quantity: Mapped[qty]
    needed_by: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(24))  # safety_stock | shortage | manual
    sales_order_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order_line.id"),
                                                             index=True)
    purchase_order_line_id: Mapped[int | None] = mapped_column(BigId)
    status: Mapped[status]  # open | ordered | cancelled


class PurchaseOrder(Timestamped, Base):
    __tablename__ = "purchase_order"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    order_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    approved_at: Mapped[dt.datetime | None]
    department_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("department.id"))  # whose budget it spends
    created_by: Mapped[str | None] = mapped_column(String(80))  # the actor who entered it (segregation of duties)


class PurchaseOrderLine(Base):
    __tablename__ = "purchase_order_line"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "line_no"),
        CheckConstraint("quantity > 0 AND unit_price >= 0", name="positive"),
        CheckConstraint("qty_received >= 0", name="received_positive"),
        CheckConstraint("qty_invoiced >= 0", name="invoiced_positive"),
    )

    id: Mapped[intpk]
    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_order.id"))  # led by uq (.., line_no)
    line_no: Mapped[int]
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    requisition_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("purchase_requisition.id"),
                                                        index=True)
    quantity: Mapped[qty]
    unit_price: Mapped[money]
    tax_rate: Mapped[Decimal]
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    qty_received: Mapped[qty]
    qty_invoiced: Mapped[qty]


class GoodsReceipt(Timestamped, Base):
    __tablename__ = "goods_receipt"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_order.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    receipt_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]  # posted | cancelled
    value_amount: Mapped[money]


class GoodsReceiptLine(Base):
    __tablename__ = "goods_receipt_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[intpk]
    goods_receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("goods_receipt.id"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("purchase_order_line.id"), index=True
    )
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    unit_cost: Mapped[money]
    value_amount: Mapped[money]


class SupplierInvoice(Timestamped, Base):
    __tablename__ = "supplier_invoice"
    __table_args__ = (
        UniqueConstraint("supplier_id", "supplier_ref"),
        CheckConstraint("amount_paid >= 0 AND amount_paid <= total_amount", name="paid_within_total"),
    )

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier.id"))  # led by uq (.., supplier_ref)
    supplier_ref: Mapped[str] = mapped_column(String(60))
    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_order.id"), index=True)
    invoice_date: Mapped[dt.date] = mapped_column(Date, index=True)
    due_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[status]  # on_hold | matched | paid | cancelled
    hold_reason: Mapped[str | None] = mapped_column(Text)
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    total_amount: Mapped[money]
    amount_paid: Mapped[money]
    matched_at: Mapped[dt.datetime | None]
    created_by: Mapped[str | None] = mapped_column(String(80))  # who entered it: they may not pay it


class SupplierInvoiceLine(Base):
    __tablename__ = "supplier_invoice_line"
    __table_args__ = (CheckConstraint("quantity > 0 AND unit_price >= 0", name="positive"),)

    id: Mapped[intpk]
    supplier_invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier_invoice.id"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("purchase_order_line.id"), index=True
    )
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    unit_price: Mapped[money]
    tax_rate: Mapped[Decimal]
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    grni_amount: Mapped[Decimal | None] = mapped_column(Amount)  # GRNI this line cleared, set at match


class SupplierPayment(Timestamped, Base):
    __tablename__ = "supplier_payment"
    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),)

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier.id"), index=True)
    supplier_invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier_invoice.id"), index=True)
    payment_date: Mapped[dt.date] = mapped_column(Date, index=True)
    amount: Mapped[money]
    status: Mapped[status]
