"""Returns: customer returns against a shipment (with their credit note) and supplier returns against a goods
receipt (with their debit note). Each line links to its source line; what a source line has had returned is
the sum of its return lines, and `erpops check` holds it within what the line moved.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import CheckConstraint, Date, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Base, BigId, Timestamped, intpk, money, qty, status


class CustomerReturn(Timestamped, Base):
    """Goods a customer sent back from one shipment, and the credit note for them (Dr Revenue + VAT / Cr AR)."""

    __tablename__ = "customer_return"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer.id"), index=True)
    shipment_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipment.id"), index=True)
    sales_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"), index=True)
    customer_invoice_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_invoice.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    return_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]  # posted
    cost_amount: Mapped[money]
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
    total_amount: Mapped[money]  # the credit note; total - refund settles the invoice, the refund is paid out
    refund_amount: Mapped[money]


class CustomerReturnLine(Base):
    __tablename__ = "customer_return_line"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[intpk]
    customer_return_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_return.id"), index=True)
    shipment_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("shipment_line.id"), index=True)
    customer_invoice_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("customer_invoice_line.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    cost_amount: Mapped[money]
    unit_price: Mapped[money]
    tax_rate: Mapped[Decimal]
    discount_percent: Mapped[Decimal] = mapped_column(Numeric(7, 4), default=Decimal(0), server_default="0")
    net_amount: Mapped[money]
    tax_amount: Mapped[money]


class SupplierReturn(Timestamped, Base):
    """Goods sent back to a supplier from one goods receipt: the unbilled part clears GRNI, the billed part is a
    debit note (Dr AP / Cr Input VAT)."""

    __tablename__ = "supplier_return"

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    supplier_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier.id"), index=True)
    goods_receipt_id: Mapped[int] = mapped_column(BigId, ForeignKey("goods_receipt.id"), index=True)
    purchase_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_order.id"), index=True)
    # the invoice the debit note settles (None: nothing returned was billed)
    supplier_invoice_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("supplier_invoice.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    return_date: Mapped[dt.date] = mapped_column(Date, index=True)
    status: Mapped[status]  # posted
    value_amount: Mapped[money]  # at receipt cost
    stock_value: Mapped[money]  # what left stock
    grni_amount: Mapped[money]
    net_amount: Mapped[money]  # debit note
    tax_amount: Mapped[money]
    total_amount: Mapped[money]  # total - refund settles the invoice, the supplier pays the refund back
    refund_amount: Mapped[money]


class SupplierReturnLine(Base):
    __tablename__ = "supplier_return_line"
    __table_args__ = (CheckConstraint("quantity > 0 AND qty_unbilled >= 0 AND qty_unbilled <= quantity",
                                      name="quantities"),)

    id: Mapped[intpk]
    supplier_return_id: Mapped[int] = mapped_column(BigId, ForeignKey("supplier_return.id"), index=True)
    goods_receipt_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("goods_receipt_line.id"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(BigId, ForeignKey("purchase_order_line.id"), index=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"))
    quantity: Mapped[qty]
    qty_unbilled: Mapped[qty]  # taken off the PO line's received quantity; the rest was billed
    value_amount: Mapped[money]  # at receipt cost
    stock_value: Mapped[money]
    grni_amount: Mapped[money]
    net_amount: Mapped[money]
    tax_amount: Mapped[money]
