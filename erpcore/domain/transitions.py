"""Which action each document status allows, as one table: the services ask here before they write."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import show_money
from erpcore.domain.status import (
    InvoiceStatus,
    PostedStatus,
    PurchaseOrderStatus,
    RequisitionStatus,
    SalesOrderStatus,
    SupplierInvoiceStatus,
    WorkOrderStatus,
)
from erpcore.exceptions import InvalidTransition

SO, PO, SI, WO = SalesOrderStatus, PurchaseOrderStatus, SupplierInvoiceStatus, WorkOrderStatus


@dataclass(frozen=True)
class Transition:
    allowed_from: frozenset[str]
    hint: str  # what the user is told, after "<document> <ref> is <status>; "


def _t(hint: str, *statuses: str) -> Transition:
    return Transition(frozenset(statuses), hint)


TRANSITIONS: dict[tuple[str, str], Transition] = {
    ("sales order", "approve"): _t("only a draft can be approved", SO.DRAFT),
    ("sales order", "ship"): _t("it cannot be shipped", SO.APPROVED, SO.PARTLY_SHIPPED),
    ("sales order", "invoice"): _t("it cannot be invoiced", SO.APPROVED, SO.PARTLY_SHIPPED, SO.SHIPPED, SO.INVOICED,
                                   SO.CLOSED),
    ("sales order", "cancel"): _t("only draft or approved orders with nothing shipped can be cancelled",
                                  SO.DRAFT, SO.PENDING_APPROVAL, SO.APPROVED),
    ("sales order", "decide"): _t("only an order pending approval takes an approver's decision",
                                  SO.PENDING_APPROVAL),
    ("shipment", "cancel"): _t("only a posted shipment can be cancelled", PostedStatus.POSTED),
    ("customer invoice", "receive"): _t("it takes no receipt", InvoiceStatus.POSTED),
    ("customer invoice", "cancel"): _t("only unpaid posted invoices can be cancelled", InvoiceStatus.POSTED),
    ("purchase order", "approve"): _t("only a draft can be approved", PO.DRAFT),
    ("purchase order", "cancel"): _t("only orders with nothing received can be cancelled", PO.DRAFT,
                                     PO.PENDING_APPROVAL, PO.APPROVED),
    ("purchase order", "decide"): _t("only an order pending approval takes an approver's decision",
                                     PO.PENDING_APPROVAL),
    ("purchase order", "receive"): _t("it cannot receive goods", PO.APPROVED, PO.PARTLY_RECEIVED),
    ("purchase order", "invoice"): _t("it cannot be invoiced", PO.APPROVED, PO.PARTLY_RECEIVED, PO.RECEIVED,
                                      PO.CLOSED),
    ("supplier invoice", "pay"): _t("only matched invoices are paid", SI.MATCHED),
    ("supplier invoice", "cancel"): _t("only unpaid invoices cancel", SI.ON_HOLD, SI.MATCHED),
    ("work order", "release"): _t("only a planned work order can be released", WO.PLANNED),
    ("work order", "issue"): _t("components are issued to a released work order", WO.RELEASED),
    ("work order", "receive"): _t("finished goods are received once its components are issued", WO.ISSUED),
    ("work order", "close"): _t("only a work order whose finished goods are received can be closed", WO.RECEIVED),
    ("work order", "cancel"): _t("only planned or released work orders (nothing issued) can be cancelled",
                                 WO.PLANNED, WO.RELEASED),
    ("purchase requisition", "cancel"): _t("only an open requisition can be cancelled (cancel its purchase "
                                           "order first)", RequisitionStatus.OPEN),
    ("goods receipt", "cancel"): _t("only a posted receipt can be cancelled", PostedStatus.POSTED),
    ("customer receipt", "cancel"): _t("only a posted receipt can be cancelled", PostedStatus.POSTED),
    ("supplier payment", "cancel"): _t("only a posted payment can be cancelled", PostedStatus.POSTED),
    ("shipment", "return"): _t("only a posted shipment takes returns", PostedStatus.POSTED),
    ("goods receipt", "return"): _t("only a posted receipt takes returns", PostedStatus.POSTED),
}


def allows(document: str, action: str, status: str) -> bool:
    """Whether a `document` in `status` may take `action` (KeyError for an action the table does not know)."""
    return status in TRANSITIONS[(document, action)].allowed_from


def require(document: str, action: str, status: str, ref: object, why: str = "") -> None:
    """Refuse (409 InvalidTransition) unless a `document` in `status` may take `action`; `why` adds detail."""
    if not allows(document, action, status):
        hint = TRANSITIONS[(document, action)].hint
        raise InvalidTransition(f"{document} {ref} is {status}{why}; {hint}")


def require_unpaid(document: str, ref: object, amount_paid: Decimal) -> None:
    """Refuse (409) to cancel a document that has been paid, even in part: its payments would dangle."""
    if amount_paid > 0:
        raise InvalidTransition(f"{document} {ref} has {show_money(amount_paid)} paid; only unpaid ones can be "
                                "cancelled")
