"""Request and response bodies. Money and quantities are Decimal, serialized as strings ("12.5000").

Inputs forbid unknown fields and bound every value by its column (digits, lengths, id range), so a bad
request is a 422 naming the field rather than a database error. They are strict where the JSON type
carries meaning: an id, a count or a flag is a JSON integer or boolean (`true` is not a number of days,
"7" is not an id), a date is a string; amounts and quantities stay JSON numbers or strings. Text refuses
control characters and bidirectional overrides; emails are checked by a bounded pattern.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# C0 and C1 controls, and the characters that reorder displayed text (bidi embeddings, overrides, isolates
# and marks): a code that renders as "ACME" must be "ACME".
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
EMAIL = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
                   r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}")


def printable(value: str) -> str:
    """Refuse control and bidi-override characters."""
    found = UNPRINTABLE.search(value)
    if found:
        raise ValueError(f"must not contain control or bidirectional-override characters (U+{ord(found[0]):04X} "
                         f"at position {found.start()})")
    return value


def email_address(value: str) -> str:
    """A plain `local@domain.tld` address (no display name, no comments, no IP literal)."""
    local = value.rpartition("@")[0]
    if len(local) > 64 or not EMAIL.fullmatch(value):
        raise ValueError("must be an email address like name@example.com")
    return value


def text_date(value: Any) -> Any:
    """A date is a JSON string ("2024-03-31"), not a number of seconds since 1970."""
    if not isinstance(value, (str, dt.date)):
        raise PydanticCustomError("date_type", "must be a date string like 2024-03-31")
    return value


def utc(moment: dt.datetime) -> dt.datetime:
    """A moment with its offset: SQLite hands back naive UTC, and RFC 3339 `date-time` needs the offset."""
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment


Id = Annotated[int, Field(gt=0, le=2**63 - 1, strict=True)]
Timestamp = Annotated[dt.datetime, AfterValidator(utc)]
Count = Annotated[int, Field(strict=True)]
Flag = Annotated[bool, Field(strict=True)]
Date = Annotated[dt.date, BeforeValidator(text_date)]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Positive = Annotated[Decimal, Field(gt=0, max_digits=18, decimal_places=4)]
Code = Annotated[str, Field(min_length=1, max_length=40), AfterValidator(printable)]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(printable)]
Email = Annotated[str, Field(max_length=200), AfterValidator(email_address)]
LineNo = Annotated[int, Field(ge=1, le=100_000, strict=True, description="line number")]
T = TypeVar("T")


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Page(BaseModel, Generic[T]):
    """One page of a list; `next` is the URL of the following page, or null on the last."""

    items: list[T]
    next: str | None


# master data

class ItemIn(In):
    sku: Code
    name: Name
    standard_cost: Amount
    list_price: Amount
    tax_code: Code = "STD"
    unit: Annotated[str, Field(min_length=1, max_length=12), AfterValidator(printable)] = "pcs"
    safety_stock: Amount = Decimal(0)
    reorder_qty: Amount = Decimal(0)
    default_supplier_id: Id | None = None
    procurement: Literal["purchased", "manufactured"] = "purchased"
    category: Code | None = None


class ItemOut(BaseModel):
    id: int
    sku: str
    name: str
    unit: str
    standard_cost: Decimal
    list_price: Decimal
    tax_code_id: int
    safety_stock: Decimal
    reorder_qty: Decimal
    default_supplier_id: int | None
    procurement: str
    category: str | None = None


class PartyIn(In):
    code: Code
    name: Name
    credit_limit: Amount = Decimal(0)
    email: Email | None = None
    payment_terms_days: Annotated[Count, Field(ge=0, le=3650)] = 30
    tax_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9 ./-]+$")] | None = None


def _never_sealed(value: str | None) -> str | None:
    """A sealed value (`erpcore.crypto`) that reached a response unopened is shown masked, never as stored."""
    return "****" if value is not None and value.startswith("v1:") else value


class PartyOut(BaseModel):
    id: int
    code: str
    name: str
    email: str | None
    credit_limit: Decimal
    payment_terms_days: int
    tax_id: Annotated[str | None, AfterValidator(_never_sealed)] = None  # masked unless partners.tax_id.reveal


class WarehouseIn(In):
    code: Code
    name: Name


class WarehouseOut(BaseModel):
    id: int
    code: str
    name: str


# order to cash

class OrderLineIn(In):
    item_id: Id
    quantity: Quantity
    unit_price: Amount | None = None
    discount_percent: Annotated[Decimal, Field(ge=0, le=100, max_digits=7, decimal_places=4)] = Decimal(0)


class SalesOrderIn(In):
    customer_id: Id
    lines: Annotated[list[OrderLineIn], Field(min_length=1, max_length=1000)]
    warehouse_id: Id | None = None
    order_date: Date | None = None
    backorder_allowed: Flag = True


class LineQuantityIn(In):
    line_no: LineNo
    quantity: Quantity


class ShipIn(In):
    lines: Annotated[list[LineQuantityIn], Field(min_length=1)] | None = None
    ship_date: Date | None = None


class InvoiceIn(In):
    invoice_date: Date | None = None


class CancelIn(In):
    cancel_date: Date | None = None


class ReceiptIn(In):
    amount: Positive | None = None
    receipt_date: Date | None = None


class SalesOrderLineOut(BaseModel):
    id: int
    line_no: int
    item_id: int
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    qty_reserved: Decimal
    qty_shipped: Decimal
    qty_invoiced: Decimal


class SalesOrderSummary(BaseModel):
    id: int
    number: str
    customer_id: int
    warehouse_id: int
    order_date: dt.date
    status: str
    backorder_allowed: bool
    net_amount: Decimal
    tax_amount: Decimal
    approved_at: Timestamp | None
    created_by: str | None = None


class SalesOrderOut(SalesOrderSummary):
    lines: list[SalesOrderLineOut]


class ShipmentLineOut(BaseModel):
    id: int
    sales_order_line_id: int
    item_id: int
    quantity: Decimal
    unit_cost: Decimal
    cost_amount: Decimal
    qty_invoiced: Decimal


class ShipmentSummary(BaseModel):
    id: int
    number: str
    sales_order_id: int
    warehouse_id: int
    ship_date: dt.date
    status: str
    cost_amount: Decimal


class ShipmentOut(ShipmentSummary):
    lines: list[ShipmentLineOut]


class CustomerInvoiceLineOut(BaseModel):
    id: int
    shipment_line_id: int
    sales_order_line_id: int
    item_id: int
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class CustomerInvoiceSummary(BaseModel):
    id: int
    number: str
    customer_id: int
    sales_order_id: int
    invoice_date: dt.date
    due_date: dt.date
    status: str
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    amount_paid: Decimal


class CustomerInvoiceOut(CustomerInvoiceSummary):
    lines: list[CustomerInvoiceLineOut]


class CustomerReceiptOut(BaseModel):
    id: int
    number: str
    customer_id: int
    customer_invoice_id: int
    receipt_date: dt.date
    amount: Decimal
    status: str


# procure to pay

class RequisitionIn(In):
    item_id: Id
    quantity: Quantity
    warehouse_id: Id | None = None
    needed_by: Date | None = None


class RequisitionOut(BaseModel):
    id: int
    number: str
    item_id: int
    warehouse_id: int
    quantity: Decimal
    needed_by: dt.date
    reason: str
    sales_order_line_id: int | None
    purchase_order_line_id: int | None
    status: str


class PurchaseLineIn(In):
    item_id: Id
    quantity: Quantity
    unit_price: Amount | None = None
    requisition_id: Id | None = None


class PurchaseOrderIn(In):
    supplier_id: Id
    lines: Annotated[list[PurchaseLineIn], Field(min_length=1, max_length=1000)]
    warehouse_id: Id | None = None
    order_date: Date | None = None
    department_id: Id | None = None


class ReceiveIn(In):
    lines: Annotated[list[LineQuantityIn], Field(min_length=1)] | None = None
    receipt_date: Date | None = None


class PurchaseOrderLineOut(BaseModel):
    id: int
    line_no: int
    item_id: int
    requisition_id: int | None
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    qty_received: Decimal
    qty_invoiced: Decimal


class PurchaseOrderSummary(BaseModel):
    id: int
    number: str
    supplier_id: int
    warehouse_id: int
    order_date: dt.date
    status: str
    net_amount: Decimal
    tax_amount: Decimal
    approved_at: Timestamp | None
    department_id: int | None = None
    created_by: str | None = None


class PurchaseOrderOut(PurchaseOrderSummary):
    lines: list[PurchaseOrderLineOut]


class GoodsReceiptLineOut(BaseModel):
    id: int
    purchase_order_line_id: int
    item_id: int
    quantity: Decimal
    unit_cost: Decimal
    value_amount: Decimal


class GoodsReceiptSummary(BaseModel):
    id: int
    number: str
    purchase_order_id: int
    warehouse_id: int
    receipt_date: dt.date
    status: str
    value_amount: Decimal


class GoodsReceiptOut(GoodsReceiptSummary):
    lines: list[GoodsReceiptLineOut]


class SupplierInvoiceLineIn(In):
    line_no: Annotated[LineNo, Field(description="purchase order line number")]
    quantity: Quantity
    unit_price: Amount


class SupplierInvoiceIn(In):
    purchase_order_id: Id
    supplier_ref: Annotated[str, Field(min_length=1, max_length=60), AfterValidator(printable)]
    lines: Annotated[list[SupplierInvoiceLineIn], Field(min_length=1, max_length=1000)]
    invoice_date: Date | None = None


class PayIn(In):
    amount: Positive | None = None
    payment_date: Date | None = None


class SupplierInvoiceLineOut(BaseModel):
    id: int
    purchase_order_line_id: int
    item_id: int
    quantity: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class SupplierInvoiceSummary(BaseModel):
    id: int
    number: str
    supplier_id: int
    supplier_ref: str
    purchase_order_id: int
    invoice_date: dt.date
    due_date: dt.date
    status: str
    hold_reason: str | None
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    amount_paid: Decimal
    matched_at: Timestamp | None


class SupplierInvoiceOut(SupplierInvoiceSummary):
    lines: list[SupplierInvoiceLineOut]


class SupplierInvoiceRegistered(SupplierInvoiceOut):
    """The registered invoice and the three-way match's verdict in one sentence."""

    reason: str


class SupplierPaymentOut(BaseModel):
    id: int
    number: str
    supplier_id: int
    supplier_invoice_id: int
    payment_date: dt.date
    amount: Decimal
    status: str

