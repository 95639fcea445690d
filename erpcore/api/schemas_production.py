"""Request and response bodies of plan-to-produce (the shared types and rules are `schemas`')."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, Field

from erpcore.api.schemas import Date, Id, In, Quantity, Timestamp

Scrap = Annotated[Decimal, Field(ge=0, lt=1, max_digits=18, decimal_places=4,
                                 description="share lost in production: 0.05 needs 5% more")]


class BomLineIn(In):
    component_id: Id
    quantity: Quantity
    scrap_factor: Scrap = Decimal(0)


class BomIn(In):
    item_id: Id
    lines: Annotated[list[BomLineIn], Field(min_length=1, max_length=1000)]


class BomLineOut(BaseModel):
    id: int
    line_no: int
    component_id: int
    sku: str
    procurement: str
    quantity: Decimal
    scrap_factor: Decimal


class BomOut(BaseModel):
    id: int
    item_id: int
    sku: str
    name: str
    created_at: Timestamp
    lines: list[BomLineOut]


class WorkOrderIn(In):
    item_id: Id
    quantity: Quantity
    warehouse_id: Id | None = None
    planned_date: Date | None = None


class IssueIn(In):
    issue_date: Date | None = None


class FinishedGoodsIn(In):
    quantity: Quantity | None = None
    receipt_date: Date | None = None


class CloseIn(In):
    close_date: Date | None = None


class WorkOrderLineOut(BaseModel):
    id: int
    line_no: int
    item_id: int
    quantity: Decimal
    planned_unit_cost: Decimal
    planned_cost: Decimal
    qty_reserved: Decimal
    qty_issued: Decimal
    issued_cost: Decimal


class WorkOrderSummary(BaseModel):
    id: int
    number: str
    item_id: int
    warehouse_id: int
    quantity: Decimal
    status: str
    planned_date: dt.date
    reason: str
    sales_order_line_id: int | None
    parent_id: int | None
    planned_cost: Decimal
    issued_cost: Decimal
    qty_received: Decimal
    received_cost: Decimal
    variance_amount: Decimal
    released_at: Timestamp | None
    issue_date: dt.date | None
    receipt_date: dt.date | None
    close_date: dt.date | None


class WorkOrderOut(WorkOrderSummary):
    lines: list[WorkOrderLineOut]


class ShippingInstructionOut(BaseModel):
    id: int
    sales_order_id: int
    warehouse_id: int
    lines: list[dict[str, Any]]
    status: str
    created_at: Timestamp
