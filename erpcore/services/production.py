"""Plan-to-produce services: bills of materials, and work orders from plan to close.

planned -> released (components reserved; a purchased component short raises a requisition, a manufactured
one plans a work order of its own) -> issued (Dr WIP / Cr Inventory at moving average) -> received (finished
goods in at the rolled-up actual cost: Dr Inventory / Cr WIP) -> closed (what is left in WIP goes to
production variance). Planned and released work orders can be cancelled; their reservations are released.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Numeric, bindparam, insert, select, update

from erpcore.access import guarded
from erpcore.domain import dates, fulfilment, postings, production, transitions
from erpcore.domain.events import StockDecreased, WorkOrderReleased
from erpcore.domain.money import ZERO, show_qty
from erpcore.domain.status import WorkOrderStatus
from erpcore.domain.stock import Balance, issue_value
from erpcore.exceptions import Conflict, InsufficientStock, NotFound, ValidationFailed
from erpcore.models import (
    BillOfMaterials,
    BomLine,
    Item,
    SalesOrder,
    SalesOrderLine,
    StockReservation,
    Warehouse,
    WorkOrder,
    WorkOrderLine,
)
from erpcore.services import production_views as views
from erpcore.services.documents import Doc, written
from erpcore.services.master import default_warehouse_id
from erpcore.services.sql import Query, batch_update, locked
from erpcore.services.steps import journal, stock
from erpcore.services.steps import production as making
from erpcore.services.steps.requisition import raise_requisition
from erpcore.services.unit_of_work import UnitOfWork

SOURCE = "work_order"


@dataclass(frozen=True)
class BomLineInput:
    component_id: int
    quantity: Decimal
    scrap_factor: Decimal = ZERO


LOCK_WORK_ORDER = Query(locked(select(*WorkOrder.__table__.columns).where(WorkOrder.id == bindparam("wo_id"))))
LINES = Query(select(*WorkOrderLine.__table__.columns).where(WorkOrderLine.work_order_id == bindparam("wo_id"))
              .order_by(WorkOrderLine.line_no))
LINE_STATE = batch_update(
    WorkOrderLine, {"k_id": WorkOrderLine.id},
    lambda p: {"qty_reserved": p["v_reserved"], "qty_issued": p["v_issued"], "issued_cost": p["v_cost"]},
    {"k_id": BigInteger(), "v_reserved": Numeric(), "v_issued": Numeric(), "v_cost": Numeric()})


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@guarded("production.bom.write")
def create_bom(uow: UnitOfWork, item_id: int, lines: Sequence[BomLineInput]) -> Doc:
    """Give a manufactured item its bill of materials (components per unit, scrap factor); cycles are refused."""
    domain_lines = [production.BomLine(x.component_id, x.quantity, x.scrap_factor) for x in lines]
    production.validate_bom(item_id, domain_lines)
    with uow:
        conn = uow.conn
        known = {r.id: r.procurement for r in conn.execute(select(Item.id, Item.procurement).where(
            Item.id.in_({item_id} | {x.component_id for x in lines})))}
        if item_id not in known:
            raise NotFound(f"item {item_id} does not exist")
        if known[item_id] != making.MANUFACTURED:
            raise ValidationFailed(f"item {item_id} is {known[item_id]}; only a manufactured item has a bill of "
                                   "materials")
        missing = sorted({x.component_id for x in lines} - known.keys())
        if missing:
            raise ValidationFailed(f"unknown component item(s): {', '.join(map(str, missing))}")
        boms = making.load_boms(uow)
        if item_id in boms:
            raise Conflict(f"item {item_id} already has a bill of materials")
        production.require_acyclic(boms, item_id, domain_lines)
        bom_id = conn.execute(insert(BillOfMaterials).values(item_id=item_id, created_at=_now())
                              .returning(BillOfMaterials.id)).scalar_one()
        conn.execute(insert(BomLine), [
            {"bom_id": bom_id, "line_no": n, "component_id": x.component_id, "quantity": x.quantity,
             "scrap_factor": x.scrap_factor} for n, x in enumerate(lines, 1)])
        doc = Doc(int(bom_id), views.bom(conn, item_id))
        uow.commit()
        return doc


@guarded("production.workorder.write")
def plan_work_order(uow: UnitOfWork, item_id: int, quantity: Decimal, warehouse_id: int | None = None,
                    planned_date: dt.date | None = None) -> Doc:
    """Plan a work order for a manufactured item: a line per BOM component, costed at rolled-up standard cost."""
    planned_date = uow.resources.dates.check("planned_date", planned_date or dt.date.today())
    with uow:
        if warehouse_id is None:
            warehouse_id = default_warehouse_id(uow)
        elif uow.conn.scalar(select(Warehouse.id).where(Warehouse.id == warehouse_id)) is None:
            raise ValidationFailed(f"unknown warehouse {warehouse_id}")
        doc = written(making.plan(uow, item_id, warehouse_id, quantity, planned_date, "manual"))
        uow.commit()
        return doc


def _lock(uow: UnitOfWork, wo_id: int, action: str) -> dict[str, Any]:
    rows = LOCK_WORK_ORDER.dicts(uow.conn, {"wo_id": wo_id})
    if not rows:
        raise NotFound(f"work order {wo_id} does not exist")
    transitions.require("work order", action, rows[0]["status"], wo_id)
    return rows[0]


def _set(uow: UnitOfWork, wo_id: int, **values: Any) -> None:
    uow.conn.execute(update(WorkOrder).where(WorkOrder.id == wo_id).values(**values))


def _write_lines(uow: UnitOfWork, lines: Sequence[dict[str, Any]]) -> None:
    LINE_STATE.many(uow.conn, [{"k_id": line["id"], "v_reserved": line["qty_reserved"],
                                "v_issued": line["qty_issued"], "v_cost": line["issued_cost"]} for line in lines])


@guarded("production.workorder.write")
def release_work_order(uow: UnitOfWork, wo_id: int) -> Doc:
    """Release a planned work order: reserve its components; what free stock cannot cover is requisitioned
    (purchased components) or planned as a work order of its own (manufactured ones)."""
    with uow:
        wo = _lock(uow, wo_id, "release")
        lines = LINES.dicts(uow.conn, {"wo_id": wo_id})
        wh = wo["warehouse_id"]
        balances = stock.lock_balances(uow, [(line["item_id"], wh) for line in lines])
        plan, balances = fulfilment.plan_reservation(
            f"work order {wo_id}", [fulfilment.LineToReserve(line["line_no"], (line["item_id"], wh),
                                                             line["quantity"] - line["qty_issued"]) for line in lines],
            balances, backorder_allowed=True)
        stock.write_balances(uow, balances)
        short = []
        for line in lines:
            line["qty_reserved"] = plan.reserved[line["line_no"]]
            if plan.reserved[line["line_no"]] > 0:
                uow.emit(StockDecreased(line["item_id"], wh))
            if line["line_no"] in plan.shortfall:
                short.append((line["item_id"], plan.shortfall[line["line_no"]]))
        _write_lines(uow, lines)
        _set(uow, wo_id, status=WorkOrderStatus.RELEASED, released_at=_now())
        _cover_shortfall(uow, wo, short)
        uow.emit(WorkOrderReleased(wo_id, wo["item_id"], wh, wo["quantity"]))
        doc = Doc(wo_id, views.work_order(uow.conn, wo_id))
        uow.commit()
        return doc


def _cover_shortfall(uow: UnitOfWork, wo: dict[str, Any], short: list[tuple[int, Decimal]]) -> None:
    """A manufactured component short gets a work order of its own; a purchased one, a requisition."""
    boms = making.load_boms(uow) if short else {}
    for item_id, qty in short:
        if item_id in boms:
            making.plan(uow, item_id, wo["warehouse_id"], qty, wo["planned_date"], "component",
                        parent_id=wo["id"], boms=boms)
        else:
            raise_requisition(uow, item_id, wo["warehouse_id"], qty, "work_order")


@guarded("production.workorder.write")
def issue_materials(uow: UnitOfWork, wo_id: int, issue_date: dt.date | None = None) -> Doc:
    """Issue every component still to issue to production at moving-average cost (Dr WIP / Cr Inventory);
    the reservation is used first, free stock covers the rest, or the issue is refused (409)."""
    issue_date = uow.resources.dates.check("issue_date", issue_date or dt.date.today())
    with uow:
        wo = _lock(uow, wo_id, "issue")
        dates.not_before("issue_date", issue_date, f"work order {wo_id}'s planned date", wo["planned_date"])
        lines = LINES.dicts(uow.conn, {"wo_id": wo_id})
        wh = wo["warehouse_id"]
        balances = stock.lock_balances(uow, [(line["item_id"], wh) for line in lines])
        moves, total = [], ZERO
        for line in lines:
            key = (line["item_id"], wh)
            b, need, held = balances[key], line["quantity"] - line["qty_issued"], line["qty_reserved"]
            if need - held > b.available:
                raise InsufficientStock(
                    f"work order {wo_id} line {line['line_no']}: issuing {show_qty(need)} of item "
                    f"{line['item_id']} needs {show_qty(need - held)} free stock beyond its reservation, "
                    f"{show_qty(b.available)} free")
            cost = issue_value(b, need)
            balances[key] = Balance(b.on_hand - need, b.reserved - held, b.value - cost)
            line.update(qty_reserved=ZERO, qty_issued=line["quantity"], issued_cost=line["issued_cost"] + cost)
            moves.append(stock.Move(line["item_id"], wh, -need, -cost, line["id"]))
            total += cost
        stock.write_balances(uow, balances)
        _write_lines(uow, lines)
        stock.add_moves(uow, issue_date, SOURCE, wo_id, "issue", moves)
        issued = wo["issued_cost"] + total
        _set(uow, wo_id, status=WorkOrderStatus.ISSUED, issued_cost=issued, issue_date=issue_date)
        journal.post(uow, issue_date, SOURCE, wo_id, "issue", f"Components issued to work order {wo['number']}",
                     postings.material_issue(total))
        for line in lines:
            uow.emit(StockDecreased(line["item_id"], wh))
        doc = Doc(wo_id, views.work_order(uow.conn, wo_id))
        uow.commit()
        return doc


@guarded("production.workorder.write")
def receive_finished_goods(uow: UnitOfWork, wo_id: int, quantity: Decimal | None = None,
                           receipt_date: dt.date | None = None) -> Doc:
    """Receive the finished goods (all planned, or fewer) at the rolled-up actual cost: Dr Inventory / Cr WIP.

    A work order planned for a sales order reserves what it made for that order's line.
    """
    receipt_date = uow.resources.dates.check("receipt_date", receipt_date or dt.date.today())
    with uow:
        wo = _lock(uow, wo_id, "receive")
        dates.not_before("receipt_date", receipt_date, f"work order {wo_id}'s issue date", wo["issue_date"])
        qty = production.require_receivable(wo_id, wo["quantity"], wo["quantity"] if quantity is None else quantity)
        value = production.receipt_value(wo["issued_cost"], wo["quantity"], qty)
        key = (wo["item_id"], wo["warehouse_id"])
        balances = stock.lock_balances(uow, [key])
        b = balances[key]
        balances[key] = Balance(b.on_hand + qty, b.reserved, b.value + value)
        if wo["sales_order_line_id"] is not None:
            balances[key] = _reserve_for_order(uow, wo["sales_order_line_id"], balances[key], qty)
        stock.write_balances(uow, balances)
        stock.add_moves(uow, receipt_date, SOURCE, wo_id, "receive", [
            stock.Move(wo["item_id"], wo["warehouse_id"], qty, value, wo_id)])
        _set(uow, wo_id, status=WorkOrderStatus.RECEIVED, qty_received=qty, received_cost=value,
             receipt_date=receipt_date)
        journal.post(uow, receipt_date, SOURCE, wo_id, "receive", f"Finished goods of work order {wo['number']}",
                     postings.finished_goods_receipt(value))
        doc = Doc(wo_id, views.work_order(uow.conn, wo_id))
        uow.commit()
        return doc


def _reserve_for_order(uow: UnitOfWork, line_id: int, balance: Balance, made: Decimal) -> Balance:
    """Reserve for the sales order line what it still misses (ordered - shipped - reserved), up to `made`."""
    row = uow.conn.execute(
        select(StockReservation.id, StockReservation.quantity, SalesOrderLine.quantity.label("ordered"),
               SalesOrderLine.qty_shipped, SalesOrder.status)
        .join(SalesOrderLine, SalesOrderLine.id == StockReservation.sales_order_line_id)
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.sales_order_id)
        .where(StockReservation.sales_order_line_id == line_id)).one_or_none()
    if row is None or row.status in ("cancelled", "closed"):
        return balance
    take = max(ZERO, min(made, row.ordered - row.qty_shipped - row.quantity, balance.available))
    if take <= 0:
        return balance
    uow.conn.execute(update(StockReservation).where(StockReservation.id == row.id)
                     .values(quantity=StockReservation.quantity + take))
    return Balance(balance.on_hand, balance.reserved + take, balance.value)


@guarded("production.workorder.write")
def close_work_order(uow: UnitOfWork, wo_id: int, close_date: dt.date | None = None) -> Doc:
    """Close a received work order: what it left in WIP goes to production variance (Dr Variance / Cr WIP)."""
    close_date = uow.resources.dates.check("close_date", close_date or dt.date.today())
    with uow:
        wo = _lock(uow, wo_id, "close")
        dates.not_before("close_date", close_date, f"work order {wo_id}'s receipt date", wo["receipt_date"])
        variance = wo["issued_cost"] - wo["received_cost"]
        _set(uow, wo_id, status=WorkOrderStatus.CLOSED, variance_amount=variance, close_date=close_date)
        if variance:
            journal.post(uow, close_date, SOURCE, wo_id, "close", f"Production variance of work order {wo['number']}",
                         postings.production_variance(variance))
        doc = Doc(wo_id, views.work_order(uow.conn, wo_id))
        uow.commit()
        return doc


@guarded("production.workorder.write")
def cancel_work_order(uow: UnitOfWork, wo_id: int) -> Doc:
    """Cancel a planned or released work order; its component reservations are released."""
    with uow:
        wo = _lock(uow, wo_id, "cancel")
        lines = LINES.dicts(uow.conn, {"wo_id": wo_id})
        held = [line for line in lines if line["qty_reserved"] > 0]
        wh = wo["warehouse_id"]
        balances = stock.lock_balances(uow, [(line["item_id"], wh) for line in held])
        for line in held:
            b = balances[(line["item_id"], wh)]
            balances[(line["item_id"], wh)] = Balance(b.on_hand, b.reserved - line["qty_reserved"], b.value)
            line["qty_reserved"] = ZERO
        stock.write_balances(uow, balances)
        _write_lines(uow, held)
        _set(uow, wo_id, status=WorkOrderStatus.CANCELLED)
        doc = Doc(wo_id, views.work_order(uow.conn, wo_id))
        uow.commit()
        return doc
