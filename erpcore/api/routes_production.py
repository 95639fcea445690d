"""Plan to produce: bills of materials, work orders and their actions, production cost, shipping instructions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from erpcore.api.auth import require
from erpcore.api.deps import MAX_ID, ErpDep, IdPath, ListDep, offloaded, page, writer
from erpcore.api.schemas import Page
from erpcore.api.schemas_production import (
    BomIn,
    BomOut,
    CloseIn,
    FinishedGoodsIn,
    IssueIn,
    ShippingInstructionOut,
    WorkOrderIn,
    WorkOrderOut,
    WorkOrderSummary,
)
from erpcore.api.strict import StrictJsonRoute
from erpcore.services import production, production_views
from erpcore.services.production import BomLineInput
from erpcore.services.unit_of_work import UnitOfWork

router = APIRouter(tags=["plan to produce"], route_class=StrictJsonRoute)
ProductionReader = [Depends(require("production.read"))]
ForCreateBom = Annotated[UnitOfWork, Depends(writer(production.create_bom, None))]
ForPlan = Annotated[UnitOfWork, Depends(writer(production.plan_work_order, "work_order"))]
ForRelease = Annotated[UnitOfWork, Depends(writer(production.release_work_order, "work_order"))]
ForIssue = Annotated[UnitOfWork, Depends(writer(production.issue_materials, "work_order"))]
ForReceive = Annotated[UnitOfWork, Depends(writer(production.receive_finished_goods, "work_order"))]
ForClose = Annotated[UnitOfWork, Depends(writer(production.close_work_order, "work_order"))]
ForCancel = Annotated[UnitOfWork, Depends(writer(production.cancel_work_order, "work_order"))]


@router.post("/boms", status_code=201, response_model=BomOut)
@offloaded
def create_bom(body: BomIn, uow: ForCreateBom) -> dict[str, Any]:
    """Give a manufactured item its bill of materials (components per unit, scrap factor); cycles are 422."""
    lines = [BomLineInput(x.component_id, x.quantity, x.scrap_factor) for x in body.lines]
    return production.create_bom(uow, body.item_id, lines).row


@router.get("/boms/{item_id}", response_model=BomOut, dependencies=ProductionReader)
def get_bom(item_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """The bill of materials of a manufactured item."""
    return production_views.bom(erp.engine, item_id)


@router.post("/work-orders", status_code=201, response_model=WorkOrderOut)
@offloaded
def plan_work_order(body: WorkOrderIn, uow: ForPlan) -> dict[str, Any]:
    """Plan a work order: a line per BOM component (scrap included) at rolled-up standard cost."""
    return production.plan_work_order(uow, body.item_id, body.quantity, body.warehouse_id, body.planned_date).row


@router.get("/work-orders", response_model=Page[WorkOrderSummary], dependencies=ProductionReader)
def list_work_orders(request: Request, erp: ErpDep, params: ListDep,
                     item_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None) -> dict[str, Any]:
    """Work orders by id; filter by status and item."""
    rows = production_views.work_orders(erp.engine, params.status, item_id, params.after, params.limit + 1,
                                        params.offset, params.date_from, params.date_to)
    return page(request, rows, params)


@router.get("/work-orders/{wo_id}", response_model=WorkOrderOut, dependencies=ProductionReader)
def get_work_order(wo_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """One work order with its component lines."""
    return production_views.work_order(erp.engine, wo_id)


@router.post("/work-orders/{wo_id}/release", response_model=WorkOrderOut)
@offloaded
def release_work_order(wo_id: IdPath, uow: ForRelease) -> dict[str, Any]:
    """Reserve the components; a shortage raises a requisition (or plans a work order for a made component)."""
    return production.release_work_order(uow, wo_id).row


@router.post("/work-orders/{wo_id}/issue", response_model=WorkOrderOut)
@offloaded
def issue_materials(wo_id: IdPath, uow: ForIssue, body: IssueIn | None = None) -> dict[str, Any]:
    """Issue the components at moving-average cost (Dr WIP / Cr Inventory)."""
    return production.issue_materials(uow, wo_id, (body or IssueIn()).issue_date).row


@router.post("/work-orders/{wo_id}/receive", response_model=WorkOrderOut)
@offloaded
def receive_finished_goods(wo_id: IdPath, uow: ForReceive, body: FinishedGoodsIn | None = None) -> dict[str, Any]:
    """Receive the finished goods (all planned, or fewer) at actual cost (Dr Inventory / Cr WIP)."""
    body = body or FinishedGoodsIn()
    return production.receive_finished_goods(uow, wo_id, body.quantity, body.receipt_date).row


@router.post("/work-orders/{wo_id}/close", response_model=WorkOrderOut)
@offloaded
def close_work_order(wo_id: IdPath, uow: ForClose, body: CloseIn | None = None) -> dict[str, Any]:
    """Close: what is left in WIP goes to production variance."""
    return production.close_work_order(uow, wo_id, (body or CloseIn()).close_date).row


@router.post("/work-orders/{wo_id}/cancel", response_model=WorkOrderOut)
@offloaded
def cancel_work_order(wo_id: IdPath, uow: ForCancel) -> dict[str, Any]:
    """Cancel a planned or released work order; its reservations are released."""
    return production.cancel_work_order(uow, wo_id).row


@router.get("/sales-orders/{order_id}/shipping-instruction", response_model=ShippingInstructionOut,
            dependencies=[Depends(require("sales:read"))])
def get_shipping_instruction(order_id: IdPath, erp: ErpDep) -> dict[str, Any]:
    """The shipping instruction an approved sales order handed to the warehouse."""
    return production_views.shipping_instruction(erp.engine, order_id)
