"""Document states, as str Enums, and the statuses derived from linked quantities."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum


class SalesOrderStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PARTLY_SHIPPED = "partly_shipped"
    SHIPPED = "shipped"
    INVOICED = "invoiced"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PurchaseOrderStatus(StrEnum):
    DRAFT = "draft"
    PENDING_APPROVAL = "pending_approval"
    APPROVED = "approved"
    PARTLY_RECEIVED = "partly_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class PostedStatus(StrEnum):
    POSTED = "posted"
    CANCELLED = "cancelled"


class InvoiceStatus(StrEnum):
    POSTED = "posted"
    PAID = "paid"
    CANCELLED = "cancelled"


class SupplierInvoiceStatus(StrEnum):
    ON_HOLD = "on_hold"
    MATCHED = "matched"
    PAID = "paid"
    CANCELLED = "cancelled"


class RequisitionStatus(StrEnum):
    OPEN = "open"
    ORDERED = "ordered"
    CANCELLED = "cancelled"


class WorkOrderStatus(StrEnum):
    PLANNED = "planned"
    RELEASED = "released"
    ISSUED = "issued"  # components issued to production
    RECEIVED = "received"  # finished goods received into stock
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ShippingInstructionStatus(StrEnum):
    OPEN = "open"


def sales_order_status(
    lines: list[tuple[Decimal, Decimal, Decimal]], fully_paid: bool
) -> SalesOrderStatus:
    """Status of an approved order from its lines' (ordered, shipped, invoiced) quantities."""
    ordered = sum(line[0] for line in lines)
    shipped = sum(line[1] for line in lines)
    invoiced = sum(line[2] for line in lines)
    if shipped == 0:
        return SalesOrderStatus.APPROVED
    if shipped < ordered:
        return SalesOrderStatus.PARTLY_SHIPPED
    if invoiced < ordered:
        return SalesOrderStatus.SHIPPED
    return SalesOrderStatus.CLOSED if fully_paid else SalesOrderStatus.INVOICED


def purchase_order_status(lines: list[tuple[Decimal, Decimal, Decimal]], fully_paid: bool) -> PurchaseOrderStatus:
    """Status of an approved PO from its lines' (ordered, received, invoiced) quantities."""
    ordered = sum(line[0] for line in lines)
    received = sum(line[1] for line in lines)
    invoiced = sum(line[2] for line in lines)
    if received == 0:
        return PurchaseOrderStatus.APPROVED
    if received < ordered:
        return PurchaseOrderStatus.PARTLY_RECEIVED
    if invoiced >= received and fully_paid:
        return PurchaseOrderStatus.CLOSED
    return PurchaseOrderStatus.RECEIVED
