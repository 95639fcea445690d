"""Reads of plan-to-produce documents as rows (dicts): a bill of materials, a work order with its lines, lists."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import bindparam, select

from erpcore.exceptions import NotFound
from erpcore.models import BillOfMaterials, BomLine, Item, ShippingInstruction, WorkOrder, WorkOrderLine
from erpcore.services.sql import Query
from erpcore.services.views import Source, connected

BOM_HEAD = Query(select(BillOfMaterials.id, BillOfMaterials.item_id, Item.sku, Item.name, BillOfMaterials.created_at)
                 .join(Item, Item.id == BillOfMaterials.item_id).where(BillOfMaterials.item_id == bindparam("item_id")))
BOM_LINES = Query(select(BomLine.id, BomLine.line_no, BomLine.component_id, Item.sku, Item.procurement,
                         BomLine.quantity, BomLine.scrap_factor)
                  .join(Item, Item.id == BomLine.component_id).where(BomLine.bom_id == bindparam("bom_id"))
                  .order_by(BomLine.line_no))
WORK_ORDER = Query(select(*WorkOrder.__table__.columns).where(WorkOrder.id == bindparam("wo_id")))
WORK_ORDER_LINES = Query(select(*WorkOrderLine.__table__.columns)
                         .where(WorkOrderLine.work_order_id == bindparam("wo_id")).order_by(WorkOrderLine.line_no))
INSTRUCTION = Query(select(*ShippingInstruction.__table__.columns)
                    .where(ShippingInstruction.sales_order_id == bindparam("order_id")))


def bom(source: Source, item_id: int) -> dict[str, Any]:
    """The bill of materials of `item_id` with its lines (component sku, quantity per unit, scrap factor)."""
    with connected(source) as conn:
        heads = BOM_HEAD.dicts(conn, {"item_id": item_id})
        if not heads:
            raise NotFound(f"item {item_id} has no bill of materials")
        return {**heads[0], "lines": BOM_LINES.dicts(conn, {"bom_id": heads[0]["id"]})}


def work_order(source: Source, wo_id: int) -> dict[str, Any]:
    """A work order with its component lines."""
    with connected(source) as conn:
        heads = WORK_ORDER.dicts(conn, {"wo_id": wo_id})
        if not heads:
            raise NotFound(f"work order {wo_id} does not exist")
        return {**heads[0], "lines": WORK_ORDER_LINES.dicts(conn, {"wo_id": wo_id})}


def shipping_instruction(source: Source, order_id: int) -> dict[str, Any]:
    """The shipping instruction of an approved sales order."""
    with connected(source) as conn:
        rows = INSTRUCTION.dicts(conn, {"order_id": order_id})
        if not rows:
            raise NotFound(f"sales order {order_id} has no shipping instruction")
        return rows[0]


def work_orders(source: Source, status: str | None = None, item_id: int | None = None, after: int | None = None,
                limit: int = 50, offset: int = 0, date_from: dt.date | None = None,
                date_to: dt.date | None = None) -> list[dict[str, Any]]:
    """Work orders by id, optionally of one status or item, planned within dates, after an id."""
    stmt = select(*WorkOrder.__table__.columns).order_by(WorkOrder.id).offset(offset).limit(limit)
    if date_from is not None:
        stmt = stmt.where(WorkOrder.planned_date >= date_from)
    if date_to is not None:
        stmt = stmt.where(WorkOrder.planned_date <= date_to)
    if status is not None:
        stmt = stmt.where(WorkOrder.status == status)
    if item_id is not None:
        stmt = stmt.where(WorkOrder.item_id == item_id)
    if after is not None:
        stmt = stmt.where(WorkOrder.id > after)
    with connected(source) as conn:
        return [dict(r) for r in conn.execute(stmt).mappings()]
