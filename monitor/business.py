"""Business counters read set-based from the ERP's tables: one statement, one row, every figure."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from sqlalchemy import Engine, func, literal, select
from sqlalchemy.sql.elements import ColumnElement

from erpcore.alerts import ALERT_TOPIC
from erpcore.models import (
    CustomerInvoice,
    GoodsReceipt,
    JournalEntry,
    OutboxMessage,
    PurchaseOrder,
    SalesOrder,
    Shipment,
    SupplierInvoice,
)
from monitor.tsdb import Sample

DOCUMENTS = {
    "sales_order": SalesOrder, "shipment": Shipment, "customer_invoice": CustomerInvoice,
    "goods_receipt": GoodsReceipt, "supplier_invoice": SupplierInvoice, "journal_entry": JournalEntry,
}


def _count(model: type, *where: ColumnElement[bool]) -> ColumnElement[int]:
    return select(func.count()).select_from(model).where(*where).scalar_subquery()


def business_samples(engine: Engine) -> list[Sample]:
    """Documents by type, approvals waiting, invoices on hold, interceptions, outbox backlog and age."""
    columns: dict[str, ColumnElement[Any]] = {f"doc_{name}": _count(model) for name, model in DOCUMENTS.items()}
    columns["approvals_waiting"] = _count(SalesOrder, SalesOrder.status == "draft") + _count(
        PurchaseOrder, PurchaseOrder.status == "draft")
    columns["on_hold"] = _count(SupplierInvoice, SupplierInvoice.status == "on_hold")
    columns["interceptions"] = _count(OutboxMessage, OutboxMessage.topic == ALERT_TOPIC)
    columns["backlog"] = _count(OutboxMessage, OutboxMessage.published_at.is_(None))
    columns["oldest"] = (select(func.min(OutboxMessage.created_at))
                         .where(OutboxMessage.published_at.is_(None)).scalar_subquery())
    stmt = select(*(c.label(k) for k, c in columns.items()), literal(1).label("one"))
    with engine.connect() as conn:
        row = conn.execute(stmt).one()._mapping
    out = [Sample({"__name__": "erpops_documents_total", "type": name}, float(row[f"doc_{name}"]))
           for name in DOCUMENTS]
    oldest = row["oldest"]
    age = 0.0
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite hands back naive UTC
            oldest = oldest.replace(tzinfo=dt.UTC)
        age = max(0.0, time.time() - oldest.timestamp())
    out += [
        Sample({"__name__": "erpops_approvals_waiting"}, float(row["approvals_waiting"])),
        Sample({"__name__": "erpops_supplier_invoices_on_hold"}, float(row["on_hold"])),
        Sample({"__name__": "erpops_rule_interceptions_total"}, float(row["interceptions"])),
        Sample({"__name__": "erpops_outbox_backlog"}, float(row["backlog"])),
        Sample({"__name__": "erpops_outbox_oldest_age_seconds"}, age),
    ]
    return out
