"""Purchase requisitions raised inside a write: by a service, or by automation handling its events."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import insert

from erpcore.domain.events import RequisitionRaised
from erpcore.domain.status import RequisitionStatus
from erpcore.models import PurchaseRequisition
from erpcore.services import numbering
from erpcore.services.unit_of_work import UnitOfWork


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
