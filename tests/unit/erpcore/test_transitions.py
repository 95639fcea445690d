"""The transition table: every action allowed only from the statuses an ERP engineer expects."""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from decimal import Decimal

import pytest

from erpcore.domain import transitions
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

EXPECTED: dict[tuple[str, str], AbstractSet[str]] = {
    ("sales order", "approve"): {SO.DRAFT},
    ("sales order", "ship"): {SO.APPROVED, SO.PARTLY_SHIPPED},
    ("sales order", "invoice"): set(SO) - {SO.DRAFT, SO.PENDING_APPROVAL, SO.CANCELLED},
    ("sales order", "cancel"): {SO.DRAFT, SO.PENDING_APPROVAL, SO.APPROVED},
    ("sales order", "decide"): {SO.PENDING_APPROVAL},
    ("shipment", "cancel"): {PostedStatus.POSTED},
    ("customer invoice", "receive"): {InvoiceStatus.POSTED},
    ("customer invoice", "cancel"): {InvoiceStatus.POSTED},
    ("purchase order", "approve"): {PO.DRAFT},
    ("purchase order", "cancel"): {PO.DRAFT, PO.PENDING_APPROVAL, PO.APPROVED},
    ("purchase order", "decide"): {PO.PENDING_APPROVAL},
    ("purchase order", "receive"): {PO.APPROVED, PO.PARTLY_RECEIVED},
    ("purchase order", "invoice"): set(PO) - {PO.DRAFT, PO.PENDING_APPROVAL, PO.CANCELLED},
    ("supplier invoice", "pay"): {SI.MATCHED},
    ("supplier invoice", "cancel"): {SI.ON_HOLD, SI.MATCHED},
    ("work order", "release"): {WO.PLANNED},
    ("work order", "issue"): {WO.RELEASED},
    ("work order", "receive"): {WO.ISSUED},
    ("work order", "close"): {WO.RECEIVED},
    ("work order", "cancel"): {WO.PLANNED, WO.RELEASED},
    ("purchase requisition", "cancel"): {RequisitionStatus.OPEN},
    ("goods receipt", "cancel"): {PostedStatus.POSTED},
    ("customer receipt", "cancel"): {PostedStatus.POSTED},
    ("supplier payment", "cancel"): {PostedStatus.POSTED},
    ("shipment", "return"): {PostedStatus.POSTED},
    ("goods receipt", "return"): {PostedStatus.POSTED},
}
STATUSES = {"sales order": SO, "shipment": PostedStatus, "customer invoice": InvoiceStatus,
            "purchase order": PO, "supplier invoice": SI, "purchase requisition": RequisitionStatus,
            "goods receipt": PostedStatus, "customer receipt": PostedStatus, "supplier payment": PostedStatus,
            "work order": WO}


def test_the_table_covers_exactly_the_expected_actions() -> None:
    assert set(transitions.TRANSITIONS) == set(EXPECTED)


@pytest.mark.parametrize(("document", "action"), sorted(EXPECTED))
def test_each_action_is_allowed_from_exactly_its_statuses(document: str, action: str) -> None:
    for status in STATUSES[document]:
        assert transitions.allows(document, action, status) == (status in EXPECTED[(document, action)]), status


@pytest.mark.parametrize(("document", "action"), sorted(EXPECTED))
def test_a_refusal_names_the_document_its_status_and_what_is_allowed(document: str, action: str) -> None:
    refused = next(s for s in STATUSES[document] if s not in EXPECTED[(document, action)])
    with pytest.raises(InvalidTransition) as caught:
        transitions.require(document, action, refused, 42)
    assert caught.value.message.startswith(f"{document} 42 is {refused}; ")
    assert caught.value.message.endswith(transitions.TRANSITIONS[(document, action)].hint)


def test_an_unknown_action_is_a_bug_not_a_refusal() -> None:
    with pytest.raises(KeyError):
        transitions.allows("sales order", "teleport", SO.DRAFT)


def test_a_paid_document_cannot_be_cancelled() -> None:
    transitions.require_unpaid("supplier invoice", 7, Decimal("0"))
    with pytest.raises(InvalidTransition, match=r"supplier invoice 7 has 0\.01 paid"):
        transitions.require_unpaid("supplier invoice", 7, Decimal("0.01"))
