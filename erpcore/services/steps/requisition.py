"""Purchase requisitions inside a write: raise one, replenish below the safety level counting what is coming,
and withdraw a shortage requisition whose demand was cancelled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import bindparam, func, insert, or_, select, update

from erpcore.domain.events import RequisitionRaised
from erpcore.domain.replenishment import Position, Replenishment, after_cancelled_demand, to_requisition
from erpcore.domain.status import PurchaseOrderStatus, RequisitionStatus, WorkOrderStatus
from erpcore.models import PurchaseOrder, PurchaseOrderLine, PurchaseRequisition, WorkOrder
from erpcore.services import numbering
from erpcore.services.sql import Query, locked
from erpcore.services.unit_of_work import StockLevel, UnitOfWork


def raise_requisition(uow: UnitOfWork, item_id: int, warehouse_id: int, quantity: Decimal, reason: str,
                      needed_by: dt.date | None = None, sales_order_line_id: int | None = None) -> int:
    """Insert an open requisition in the open unit of work; returns its id."""
    needed_by = needed_by or dt.date.today() + dt.timedelta(days=7)
    number = numbering.next_number(uow, "purchase_requisition", needed_by.year)
    req_id = int(uow.conn.execute(insert(PurchaseRequisition).values(
        number=number, item_id=item_id,
        warehouse_id=warehouse_id, quantity=quantity, needed_by=needed_by, reason=reason,
        sales_order_line_id=sales_order_line_id, status=RequisitionStatus.OPEN,
    ).returning(PurchaseRequisition.id)).scalar_one())
    uow.emit(RequisitionRaised(req_id, number, item_id, warehouse_id, quantity, reason))
    return req_id


OPEN_PO = or_(*(PurchaseOrder.status == s for s in (
    PurchaseOrderStatus.DRAFT, PurchaseOrderStatus.APPROVED, PurchaseOrderStatus.PARTLY_RECEIVED)))
OPEN_WO = or_(*(WorkOrder.status == s for s in (
    WorkOrderStatus.PLANNED, WorkOrderStatus.RELEASED, WorkOrderStatus.ISSUED)))  # no IN list: prepared once
# What is coming for an item in a warehouse, in one round trip: PO lines not received yet, work orders not
# finished yet, and open requisitions; neither work orders nor requisitions earmarked for a sales order's
# shortfall count (that demand is not in `reserved`, so its supply is not free).
COMING = Query(select(
    select(func.coalesce(func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.qty_received), 0))
    .join(PurchaseOrder, PurchaseOrder.id == PurchaseOrderLine.purchase_order_id)
    .where(PurchaseOrderLine.item_id == bindparam("item_id"), PurchaseOrder.warehouse_id == bindparam("wh"),
           OPEN_PO, PurchaseOrderLine.quantity > PurchaseOrderLine.qty_received).scalar_subquery().label("on_order"),
    select(func.coalesce(func.sum(PurchaseRequisition.quantity), 0))
    .where(PurchaseRequisition.item_id == bindparam("item_id"), PurchaseRequisition.warehouse_id == bindparam("wh"),
           PurchaseRequisition.status == RequisitionStatus.OPEN, PurchaseRequisition.sales_order_line_id.is_(None))
    .scalar_subquery().label("requisitioned"),
    select(func.coalesce(func.sum(WorkOrder.quantity - WorkOrder.qty_received), 0))
    .where(WorkOrder.item_id == bindparam("item_id"), WorkOrder.warehouse_id == bindparam("wh"), OPEN_WO,
           WorkOrder.sales_order_line_id.is_(None), WorkOrder.quantity > WorkOrder.qty_received)
    .scalar_subquery().label("in_production")))


def position(uow: UnitOfWork, level: StockLevel) -> Position:
    """The supply position of a balance as this transaction left it: free stock and what is coming."""
    coming = COMING.one(uow.conn, {"item_id": level.item_id, "wh": level.warehouse_id})
    return Position(level.on_hand, level.reserved, Decimal(coming.on_order) + Decimal(coming.in_production),
                    Decimal(coming.requisitioned))


def replenish(uow: UnitOfWork, level: StockLevel) -> Replenishment:
    """Raise a safety-stock requisition when free stock is under the item's safety level and what is on order
    or already requisitioned does not cover it; returns what was decided and why."""
    if level.safety_stock <= 0 or level.on_hand - level.reserved >= level.safety_stock:
        return to_requisition(Position(level.on_hand, level.reserved), level.safety_stock, level.reorder_qty)
    decision = to_requisition(position(uow, level), level.safety_stock, level.reorder_qty)
    if decision.quantity > 0:
        raise_requisition(uow, level.item_id, level.warehouse_id, decision.quantity, "safety_stock")
    return decision


def withdraw_demand(uow: UnitOfWork, sales_order_line_ids: list[int], withdrawn: dict[int, Decimal]) -> list[int]:
    """The open shortage requisitions of these sales order lines give up `withdrawn` (per line) of their demand:
    reduced, or cancelled when nothing is left. Ordered ones are on a purchase order and stay. Returns the ids
    of the requisitions changed."""
    if not sales_order_line_ids:
        return []
    reqs = uow.conn.execute(locked(select(
        PurchaseRequisition.id, PurchaseRequisition.quantity, PurchaseRequisition.sales_order_line_id)
        .where(PurchaseRequisition.sales_order_line_id.in_(sales_order_line_ids),
               PurchaseRequisition.status == RequisitionStatus.OPEN).order_by(PurchaseRequisition.id))).all()
    changed = []
    for req in reqs:
        left = after_cancelled_demand(req.quantity, withdrawn.get(req.sales_order_line_id, Decimal(0)))
        values = {"status": RequisitionStatus.CANCELLED} if left == 0 else {"quantity": left}
        uow.conn.execute(update(PurchaseRequisition).where(PurchaseRequisition.id == req.id).values(**values))
        withdrawn[req.sales_order_line_id] = max(Decimal(0), withdrawn.get(req.sales_order_line_id, Decimal(0))
                                                  - req.quantity)
        changed.append(req.id)
    return changed
