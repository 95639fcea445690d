"""Domain events: facts, past tense, small and frozen. Handlers run inside the writing transaction."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


class Event:
    """Base of every domain event."""


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
class GoodsReceived(Event):
    goods_receipt_id: int
    purchase_order_id: int


@dataclass(frozen=True)
class SupplierInvoiceHeld(Event):
    supplier_invoice_id: int
    reason: str


@dataclass(frozen=True)
class ShippingInstructionCreated(Event):
    """An approved sales order was handed to the warehouse: what to pick, from where."""

    shipping_instruction_id: int
    sales_order_id: int
    warehouse_id: int


@dataclass(frozen=True)
class WorkOrderReleased(Event):
    """A work order was released to the shop floor with its components reserved."""

    work_order_id: int
    item_id: int
    warehouse_id: int
    quantity: Decimal


@dataclass(frozen=True)
class PayrollPosted(Event):
    payroll_run_id: int
    period: str  # YYYY-MM
    headcount: int
    net_amount: Decimal
