"""Domain events: facts, past tense, small and frozen. Handlers run inside the writing transaction.

Integration events are the facts other systems (WMS, MES, CRM, logistics) subscribe to. An event becomes
one by subclassing `IntegrationEvent` with its topic, on its class line, and nothing else:

    @dataclass(frozen=True)
    class WorkOrderReleased(IntegrationEvent, topic="production.work_order.released"):
        work_order_id: int
        number: str

The message bus hands every `IntegrationEvent` to the outbox handler (`erpcore.services.outbox`), which
writes one `outbox` row in the same transaction as the change: topic, key (`event.key`: the first field
unless the class overrides it), payload (`event.payload()`: the fields as JSON) and a fresh event id that
receivers deduplicate on. A write that fails writes no outbox row; `erpops outbox deliver` sends the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, ClassVar


class Event:
    """Base of every domain event."""


class IntegrationEvent(Event):
    """An event the outbox carries to subscribed webhooks under `topic` (set on the class line)."""

    topic: ClassVar[str] = ""
    TOPICS: ClassVar[dict[str, type[IntegrationEvent]]] = {}

    def __init_subclass__(cls, /, topic: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if not topic:
            raise TypeError(f"{cls.__name__}: an integration event names its topic: "
                            f"class {cls.__name__}(IntegrationEvent, topic='domain.object.happened')")
        if IntegrationEvent.TOPICS.setdefault(topic, cls) is not cls:
            raise TypeError(f"topic {topic!r} is already {IntegrationEvent.TOPICS[topic].__name__}'s")
        cls.topic = topic

    @property
    def key(self) -> str:
        """The business key receivers order and group by: the first field (a document id) by default."""
        return str(getattr(self, fields(self)[0].name))  # type: ignore[arg-type]

    def payload(self) -> dict[str, object]:
        """The event's fields as JSON values (Decimals as strings, exact)."""
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}  # type: ignore[arg-type]


def _json(value: object) -> object:
    return str(value) if isinstance(value, Decimal) else value


@dataclass(frozen=True)
class ReservationFellShort(Event):
    sales_order_line_id: int
    item_id: int
    warehouse_id: int
    shortfall: Decimal


@dataclass(frozen=True)
class StockDecreased(Event):
    item_id: int
    warehouse_id: int


@dataclass(frozen=True)
class SalesOrderApproved(IntegrationEvent, topic="sales.order.approved"):
    sales_order_id: int
    number: str
    customer_id: int
    total_amount: Decimal


@dataclass(frozen=True)
class PurchaseOrderApproved(IntegrationEvent, topic="purchasing.order.approved"):
    purchase_order_id: int
    number: str
    supplier_id: int
    total_amount: Decimal


@dataclass(frozen=True)
class GoodsReceived(IntegrationEvent, topic="purchasing.goods_receipt.posted"):
    goods_receipt_id: int
    purchase_order_id: int


@dataclass(frozen=True)
class SupplierInvoiceMatched(IntegrationEvent, topic="purchasing.supplier_invoice.matched"):
    supplier_invoice_id: int
    number: str
    total_amount: Decimal


@dataclass(frozen=True)
class SupplierInvoiceHeld(IntegrationEvent, topic="purchasing.supplier_invoice.held"):
    supplier_invoice_id: int
    reason: str


@dataclass(frozen=True)
class ShippingInstructionCreated(IntegrationEvent, topic="sales.shipping_instruction.created"):
    """An approved sales order was handed to the warehouse: what to pick, from where."""

    shipping_instruction_id: int
    sales_order_id: int
    warehouse_id: int


@dataclass(frozen=True)
class WorkOrderReleased(IntegrationEvent, topic="production.work_order.released"):
    """A work order was released to the shop floor with its components reserved."""

    work_order_id: int
    item_id: int
    warehouse_id: int
    quantity: Decimal


@dataclass(frozen=True)
class PayrollPosted(IntegrationEvent, topic="hr.payroll.posted"):
    payroll_run_id: int
    period: str  # YYYY-MM
    headcount: int
    net_amount: Decimal


@dataclass(frozen=True)
class RequisitionRaised(IntegrationEvent, topic="purchasing.requisition.raised"):
    purchase_requisition_id: int
    number: str
    item_id: int
    warehouse_id: int
    quantity: Decimal
    reason: str
