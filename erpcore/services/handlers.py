"""Automation: handlers of domain events, run inside the transaction that raised them.

- an approved order that could not reserve everything raises a requisition for the shortfall, or plans a
  work order when the item is manufactured (it has a bill of materials);
- free stock falling under an item's safety stock raises a requisition only when what is on order and already
  requisitioned does not lift it back (available to promise, `steps.requisition.replenish`);
- a goods receipt re-runs three-way match for invoices of that order waiting on it;
- an invoice put on hold is a business-rule interception: an alert event goes to the outbox;
- every integration event (order approved, goods received, ...) is written to the outbox for the webhooks.
"""

from __future__ import annotations

from sqlalchemy import select

from erpcore.alerts import raise_alert
from erpcore.domain.events import (
    Event,
    GoodsReceived,
    IntegrationEvent,
    ReservationFellShort,
    StockDecreased,
    SupplierInvoiceHeld,
)
from erpcore.domain.status import SupplierInvoiceStatus
from erpcore.models import (
    Item,
    StockBalance,
    SupplierInvoice,
)
from erpcore.services.messagebus import Handler
from erpcore.services.sql import Query, pairs_in, pairs_params
from erpcore.services.steps import outbox, production
from erpcore.services.steps.matching import match_invoice
from erpcore.services.steps.requisition import raise_requisition, replenish
from erpcore.services.unit_of_work import Key, StockLevel, UnitOfWork


def requisition_for_shortfall(event: ReservationFellShort, uow: UnitOfWork) -> None:
    if production.plan_for_shortfall(uow, event):  # a manufactured item: a work order instead
        return
    raise_requisition(uow, event.item_id, event.warehouse_id, event.shortfall, "shortage",
                      sales_order_line_id=event.sales_order_line_id)


def requisition_below_safety(event: StockDecreased, uow: UnitOfWork) -> None:
    level = _safety_rows(uow, event).get((event.item_id, event.warehouse_id))
    if level is not None:
        replenish(uow, level)


_LEVELS = select(StockBalance.item_id, StockBalance.warehouse_id, StockBalance.on_hand, StockBalance.reserved,
                 Item.safety_stock, Item.reorder_qty).join(Item, Item.id == StockBalance.item_id)
_ANY_KEY, _ANY_KEY_PG = pairs_in(StockBalance.item_id, StockBalance.warehouse_id)
SAFETY_LEVELS = Query(_LEVELS.where(_ANY_KEY), postgresql=_LEVELS.where(_ANY_KEY_PG))


def _safety_rows(uow: UnitOfWork, event: StockDecreased) -> dict[Key, StockLevel]:
    """Stock and safety levels of this event's balance and of every StockDecreased still queued.

    `stock.write_balances` leaves the levels it wrote in `uow.levels`, so a posting usually needs no query;
    otherwise one query reads all the queued events' balances (n lines raise n events). The levels stay
    valid while events are handled: handlers raise requisitions, they do not move stock.
    """
    key = (event.item_id, event.warehouse_id)
    if key in uow.levels:
        return uow.levels
    keys = {key} | {(e.item_id, e.warehouse_id) for e in uow.events if isinstance(e, StockDecreased)}
    rows = SAFETY_LEVELS.rows(uow.conn, pairs_params(sorted(keys - uow.levels.keys())))
    uow.levels.update({(r.item_id, r.warehouse_id): StockLevel(r.item_id, r.warehouse_id, r.on_hand, r.reserved,
                                                               r.safety_stock, r.reorder_qty) for r in rows})
    return uow.levels


def rematch_waiting_invoices(event: GoodsReceived, uow: UnitOfWork) -> None:
    waiting = uow.session.scalars(select(SupplierInvoice.id).where(
        SupplierInvoice.purchase_order_id == event.purchase_order_id,
        SupplierInvoice.status == SupplierInvoiceStatus.ON_HOLD).order_by(SupplierInvoice.id)).all()
    for invoice_id in waiting:
        match_invoice(uow, invoice_id)


def alert_on_hold(event: SupplierInvoiceHeld, uow: UnitOfWork) -> None:
    raise_alert(uow.conn, "SupplierInvoiceOnHold",
                f"supplier invoice {event.supplier_invoice_id} held: {event.reason}", "warning",
                {"component": "erp", "rule": "three_way_match", "document": str(event.supplier_invoice_id)})


HANDLERS: dict[type[Event], list[Handler]] = {
    ReservationFellShort: [requisition_for_shortfall],
    StockDecreased: [requisition_below_safety],
    GoodsReceived: [rematch_waiting_invoices],
    SupplierInvoiceHeld: [alert_on_hold],
    IntegrationEvent: [outbox.record],
}
