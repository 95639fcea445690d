"""Plan-to-produce inside a write: plan a work order, and hand an approved sales order to the warehouse.

A work order is planned by a service (`production.plan_work_order`), by the automation that sees an approved
sales order fall short of a manufactured item, and by a release whose manufactured component falls short.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, insert, select

from erpcore.domain import production
from erpcore.domain.events import ReservationFellShort, ShippingInstructionCreated
from erpcore.domain.money import ZERO, to_cents
from erpcore.domain.production import BomLine as DomainBomLine
from erpcore.domain.status import ShippingInstructionStatus, WorkOrderStatus
from erpcore.exceptions import ValidationFailed
from erpcore.models import BillOfMaterials, BomLine, Item, ShippingInstruction, WorkOrder, WorkOrderLine
from erpcore.services import numbering
from erpcore.services.sql import Query, batch_insert
from erpcore.services.unit_of_work import UnitOfWork

MANUFACTURED = "manufactured"
ALL_BOMS = Query(select(BillOfMaterials.item_id, BomLine.component_id, BomLine.quantity, BomLine.scrap_factor)
                 .join(BomLine, BomLine.bom_id == BillOfMaterials.id).order_by(BillOfMaterials.item_id, BomLine.line_no))
PROCUREMENT = Query(select(Item.procurement).where(Item.id == bindparam("item_id")))
INSERT_WORK_ORDER = Query(insert(WorkOrder).values(
    number=bindparam("v_number"), item_id=bindparam("v_item_id"), warehouse_id=bindparam("v_warehouse_id"),
    quantity=bindparam("v_quantity"), status=WorkOrderStatus.PLANNED, planned_date=bindparam("v_planned_date"),
    reason=bindparam("v_reason"), sales_order_line_id=bindparam("v_so_line"), parent_id=bindparam("v_parent"),
    planned_cost=bindparam("v_planned_cost"), issued_cost=ZERO, qty_received=ZERO, received_cost=ZERO,
    variance_amount=ZERO, created_at=bindparam("v_created_at"),
).returning(*WorkOrder.__table__.columns))
INSERT_LINES = batch_insert(WorkOrderLine, "work_order_id", "line_no", "item_id", "quantity", "planned_unit_cost",
                            "planned_cost", "qty_reserved", "qty_issued", "issued_cost", returning=True)
INSERT_INSTRUCTION = Query(insert(ShippingInstruction).values(
    sales_order_id=bindparam("v_order_id"), warehouse_id=bindparam("v_warehouse_id"), lines=bindparam("v_lines"),
    status=ShippingInstructionStatus.OPEN, created_at=bindparam("v_created_at"),
).returning(ShippingInstruction.id))


def load_boms(uow: UnitOfWork) -> dict[int, list[DomainBomLine]]:
    """Every bill of materials, by finished item (a company has tens to hundreds: one query)."""
    boms: dict[int, list[DomainBomLine]] = {}
    for r in ALL_BOMS.rows(uow.conn):
        boms.setdefault(r.item_id, []).append(DomainBomLine(r.component_id, Decimal(r.quantity),
                                                            Decimal(r.scrap_factor)))
    return boms


def standard_costs(uow: UnitOfWork, boms: dict[int, list[DomainBomLine]], item_id: int) -> dict[int, Decimal]:
    """The standard cost of every purchased component of `item_id`, over all its BOM's levels."""
    leaves = sorted(production.leaf_requirements(boms, item_id, Decimal(1)))
    rows = uow.conn.execute(select(Item.id, Item.standard_cost).where(Item.id.in_(leaves)))
    return {r.id: Decimal(r.standard_cost) for r in rows}


def is_manufactured(uow: UnitOfWork, item_id: int) -> bool:
    return bool(PROCUREMENT.scalar(uow.conn, {"item_id": item_id}) == MANUFACTURED)


def plan(uow: UnitOfWork, item_id: int, warehouse_id: int, quantity: Decimal, planned_date: dt.date,
         reason: str, sales_order_line_id: int | None = None, parent_id: int | None = None,
         boms: dict[int, list[DomainBomLine]] | None = None) -> dict[str, Any]:
    """Insert a planned work order for `quantity` of `item_id` with a line per BOM component (scrap included),
    each at its rolled-up standard cost; returns the order's row with its `lines`."""
    if quantity <= 0:
        raise ValidationFailed(f"a work order's quantity must be positive (got {quantity})")
    boms = load_boms(uow) if boms is None else boms
    if item_id not in boms:
        raise ValidationFailed(f"item {item_id} has no bill of materials; add one before planning a work order")
    costs = standard_costs(uow, boms, item_id)
    needs = production.requirements(boms[item_id], quantity)
    units = {component: production.rolled_up_cost(boms, component, costs) for component in needs}
    production.require_plannable(quantity, needs, units)
    rows: list[dict[str, Any]] = []
    for n, (component, need) in enumerate(needs.items(), 1):
        unit = units[component]
        rows.append({"line_no": n, "item_id": component, "quantity": need, "planned_unit_cost": unit,
                     "planned_cost": to_cents(need * unit), "qty_reserved": ZERO, "qty_issued": ZERO,
                     "issued_cost": ZERO})
    head = INSERT_WORK_ORDER.dicts(uow.conn, {
        "v_number": numbering.next_number(uow, "work_order", planned_date.year), "v_item_id": item_id,
        "v_warehouse_id": warehouse_id, "v_quantity": quantity, "v_planned_date": planned_date, "v_reason": reason,
        "v_so_line": sales_order_line_id, "v_parent": parent_id,
        "v_planned_cost": sum((r["planned_cost"] for r in rows), ZERO), "v_created_at": dt.datetime.now(dt.UTC)})[0]
    lines = INSERT_LINES.many_returning(uow.conn, [{**r, "work_order_id": head["id"]} for r in rows])
    return {**head, "lines": sorted(lines, key=lambda line: int(line["line_no"]))}


def create_shipping_instruction(uow: UnitOfWork, order_id: int, warehouse_id: int,
                                lines: Iterable[tuple[int, int, Decimal]]) -> int:
    """Hand an approved sales order to the warehouse: a shipping instruction of its (line no, item, quantity)
    lines, written in the approving transaction; `ShippingInstructionCreated` tells the outbox."""
    body = [{"line_no": n, "item_id": item, "quantity": str(q)} for n, item, q in lines]
    instruction_id = int(INSERT_INSTRUCTION.scalar(uow.conn, {
        "v_order_id": order_id, "v_warehouse_id": warehouse_id, "v_lines": body,
        "v_created_at": dt.datetime.now(dt.UTC)}))
    uow.emit(ShippingInstructionCreated(instruction_id, order_id, warehouse_id))
    return instruction_id


def plan_for_shortfall(uow: UnitOfWork, event: ReservationFellShort) -> bool:
    """An approved order short of a manufactured item with a BOM plans a work order for the shortfall, linked
    to the order line, and returns True; anything else is left to a requisition (False)."""
    if not is_manufactured(uow, event.item_id):
        return False
    boms = load_boms(uow)
    if event.item_id not in boms:
        return False
    plan(uow, event.item_id, event.warehouse_id, event.shortfall, dt.date.today(), "shortage",
         sales_order_line_id=event.sales_order_line_id, boms=boms)
    return True
