"""Bodies of the returns routes (customer returns with their credit notes, supplier returns with their debit
notes); the same rules as `schemas`: inputs bounded and strict, amounts and quantities as Decimal strings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, Field

from erpcore.api.schemas import Date, Id, In, Quantity


class CustomerReturnLineIn(In):
    shipment_line_id: Id
    quantity: Quantity


class CustomerReturnIn(In):
    shipment_id: Id
    lines: Annotated[list[CustomerReturnLineIn], Field(min_length=1, max_length=1000,
                                                       description="omitted: all that is still returnable")] | None = None
    return_date: Date | None = None


class SupplierReturnLineIn(In):
    goods_receipt_line_id: Id
    quantity: Quantity


class SupplierReturnIn(In):
    goods_receipt_id: Id
    lines: Annotated[list[SupplierReturnLineIn], Field(min_length=1, max_length=1000,
                                                       description="omitted: all that is still returnable")] | None = None
    return_date: Date | None = None


class CustomerReturnSummary(BaseModel):
    id: int
    number: str
    customer_id: int
    shipment_id: int
    sales_order_id: int
    customer_invoice_id: int
    warehouse_id: int
    return_date: dt.date
    status: str
    cost_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    refund_amount: Decimal


class CustomerReturnLineOut(BaseModel):
    id: int
    shipment_line_id: int
    customer_invoice_line_id: int
    item_id: int
    quantity: Decimal
    cost_amount: Decimal
    unit_price: Decimal
    tax_rate: Decimal
    discount_percent: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class CustomerReturnOut(CustomerReturnSummary):
    lines: list[CustomerReturnLineOut]


class SupplierReturnSummary(BaseModel):
    id: int
    number: str
    supplier_id: int
    goods_receipt_id: int
    purchase_order_id: int
    supplier_invoice_id: int | None
    warehouse_id: int
    return_date: dt.date
    status: str
    value_amount: Decimal
    stock_value: Decimal
    grni_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    total_amount: Decimal
    refund_amount: Decimal


class SupplierReturnLineOut(BaseModel):
    id: int
    goods_receipt_line_id: int
    purchase_order_line_id: int
    item_id: int
    quantity: Decimal
    qty_unbilled: Decimal
    value_amount: Decimal
    stock_value: Decimal
    grni_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class SupplierReturnOut(SupplierReturnSummary):
    lines: list[SupplierReturnLineOut]
