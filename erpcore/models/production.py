"""Plan-to-produce: bills of materials, work orders with their component lines, and the shipping instructions
handed to the warehouse for every approved sales order."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from erpcore.models.base import Amount, Base, BigId, Timestamped, intpk, money, qty, status


class BillOfMaterials(Timestamped, Base):
    """The BOM of one manufactured item: what one unit of it is made of."""

    __tablename__ = "bill_of_materials"

    id: Mapped[intpk]
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), unique=True)


class BomLine(Base):
    __tablename__ = "bom_line"
    __table_args__ = (
        UniqueConstraint("bom_id", "line_no"),
        UniqueConstraint("bom_id", "component_id"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("scrap_factor >= 0 AND scrap_factor < 1", name="scrap_range"),
    )

    id: Mapped[intpk]
    bom_id: Mapped[int] = mapped_column(BigId, ForeignKey("bill_of_materials.id"))  # led by uq (.., line_no)
    line_no: Mapped[int]
    component_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    quantity: Mapped[qty]  # per unit of the finished item
    scrap_factor: Mapped[Decimal] = mapped_column(Amount)


class WorkOrder(Timestamped, Base):
    """Making `quantity` of an item: planned -> released -> issued -> received -> closed (or cancelled).

    The costs are the work order's WIP account lines: issued components (Dr WIP), finished goods received
    (Cr WIP) and the variance written off at close (Cr WIP); open WIP = issued - received - variance.
    """

    __tablename__ = "work_order"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),
                      CheckConstraint("qty_received >= 0 AND qty_received <= quantity", name="received_within"))

    id: Mapped[intpk]
    number: Mapped[str] = mapped_column(String(40), unique=True)
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    quantity: Mapped[qty]
    status: Mapped[status]
    planned_date: Mapped[dt.date] = mapped_column(Date, index=True)
    reason: Mapped[str] = mapped_column(String(24))  # manual | shortage | component
    sales_order_line_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("sales_order_line.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("work_order.id"), index=True)
    planned_cost: Mapped[money]
    issued_cost: Mapped[money]
    qty_received: Mapped[qty]
    received_cost: Mapped[money]
    variance_amount: Mapped[money]
    released_at: Mapped[dt.datetime | None]
    issue_date: Mapped[dt.date | None] = mapped_column(Date)
    receipt_date: Mapped[dt.date | None] = mapped_column(Date)
    close_date: Mapped[dt.date | None] = mapped_column(Date)


class WorkOrderLine(Base):
    """A component a work order needs (its BOM line for the order's quantity, scrap included)."""

    __tablename__ = "work_order_line"
    __table_args__ = (
        UniqueConstraint("work_order_id", "line_no"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("qty_reserved >= 0 AND qty_issued >= 0", name="derived_positive"),
    )

    id: Mapped[intpk]
    work_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("work_order.id"))  # led by uq (.., line_no)
    line_no: Mapped[int]
    item_id: Mapped[int] = mapped_column(BigId, ForeignKey("item.id"), index=True)
    quantity: Mapped[qty]
    planned_unit_cost: Mapped[money]
    planned_cost: Mapped[money]
    qty_reserved: Mapped[qty]  # held on the stock balance for this line until issued or cancelled
    qty_issued: Mapped[qty]
    issued_cost: Mapped[money]


class ShippingInstruction(Timestamped, Base):
    """The hand-off of an approved sales order to the warehouse system: what to pick, and from where."""

    __tablename__ = "shipping_instruction"

    id: Mapped[intpk]
    sales_order_id: Mapped[int] = mapped_column(BigId, ForeignKey("sales_order.id"), unique=True)
    warehouse_id: Mapped[int] = mapped_column(BigId, ForeignKey("warehouse.id"))
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)  # [{line_no, item_id, quantity}]
    status: Mapped[status]  # open
