"""The seeded tables, their column order, and the text forms of seeded values.

Money is carried as integer cents and quantities as whole units while simulating; rows hold the
exact decimal text (`"12.34"`), so both backends parse the same value and no float is involved.
"""

from __future__ import annotations

from typing import Any

Row = tuple[Any, ...]

COLUMNS: dict[str, tuple[str, ...]] = {
    "customer": ("id", "code", "name", "email", "tax_id", "credit_limit", "payment_terms_days", "created_at"),
    "supplier": ("id", "code", "name", "email", "bank_account", "credit_limit", "payment_terms_days",
                 "created_at"),
    "item": ("id", "sku", "name", "unit", "standard_cost", "list_price", "tax_code_id", "safety_stock",
             "reorder_qty", "default_supplier_id", "procurement", "created_at"),
    "bill_of_materials": ("id", "item_id", "created_at"),
    "bom_line": ("id", "bom_id", "line_no", "component_id", "quantity", "scrap_factor"),
    "sales_order": ("id", "number", "customer_id", "warehouse_id", "order_date", "status", "backorder_allowed",
                    "net_amount", "tax_amount", "approved_at", "created_at"),
    "sales_order_line": ("id", "sales_order_id", "line_no", "item_id", "quantity", "unit_price", "tax_rate",
                         "net_amount", "tax_amount", "qty_shipped", "qty_invoiced"),
    "work_order": ("id", "number", "item_id", "warehouse_id", "quantity", "status", "planned_date", "reason",
                   "sales_order_line_id", "parent_id", "planned_cost", "issued_cost", "qty_received", "received_cost",
                   "variance_amount", "released_at", "issue_date", "receipt_date", "close_date", "created_at"),
    "work_order_line": ("id", "work_order_id", "line_no", "item_id", "quantity", "planned_unit_cost", "planned_cost",
                        "qty_reserved", "qty_issued", "issued_cost"),
    "shipping_instruction": ("id", "sales_order_id", "warehouse_id", "lines", "status", "created_at"),
    "stock_reservation": ("id", "sales_order_line_id", "item_id", "warehouse_id", "quantity", "created_at"),
    "shipment": ("id", "number", "sales_order_id", "warehouse_id", "ship_date", "status", "cost_amount",
                 "created_at"),
    "shipment_line": ("id", "shipment_id", "sales_order_line_id", "reservation_id", "item_id", "quantity",
                      "unit_cost", "cost_amount", "qty_invoiced"),
    "customer_invoice": ("id", "number", "customer_id", "sales_order_id", "invoice_date", "due_date", "status",
                         "net_amount", "tax_amount", "total_amount", "amount_paid", "created_at"),
    "customer_invoice_line": ("id", "customer_invoice_id", "shipment_line_id", "sales_order_line_id", "item_id",
                              "quantity", "unit_price", "tax_rate", "net_amount", "tax_amount"),
    "customer_receipt": ("id", "number", "customer_id", "customer_invoice_id", "receipt_date", "amount", "status",
                         "created_at"),
    "purchase_requisition": ("id", "number", "item_id", "warehouse_id", "quantity", "needed_by", "reason",
                             "sales_order_line_id", "purchase_order_line_id", "status", "created_at"),
    "purchase_order": ("id", "number", "supplier_id", "warehouse_id", "order_date", "status", "net_amount",
                       "tax_amount", "approved_at", "created_at"),
    "purchase_order_line": ("id", "purchase_order_id", "line_no", "item_id", "requisition_id", "quantity",
                            "unit_price", "tax_rate", "net_amount", "tax_amount", "qty_received", "qty_invoiced"),
    "goods_receipt": ("id", "number", "purchase_order_id", "warehouse_id", "receipt_date", "status",
                      "value_amount", "created_at"),
    "goods_receipt_line": ("id", "goods_receipt_id", "purchase_order_line_id", "item_id", "quantity", "unit_cost",
                           "value_amount"),
    "supplier_invoice": ("id", "number", "supplier_id", "supplier_ref", "purchase_order_id", "invoice_date",
                         "due_date", "status", "hold_reason", "net_amount", "tax_amount", "total_amount",
                         "amount_paid", "matched_at", "created_at"),
    "supplier_invoice_line": ("id", "supplier_invoice_id", "purchase_order_line_id", "item_id", "quantity",
                              "unit_price", "tax_rate", "net_amount", "tax_amount", "grni_amount"),
    "supplier_payment": ("id", "number", "supplier_id", "supplier_invoice_id", "payment_date", "amount", "status",
                         "created_at"),
    "customer_return": ("id", "number", "customer_id", "shipment_id", "sales_order_id", "customer_invoice_id",
                        "warehouse_id", "return_date", "status", "cost_amount", "net_amount", "tax_amount",
                        "total_amount", "refund_amount", "created_at"),
    "customer_return_line": ("id", "customer_return_id", "shipment_line_id", "customer_invoice_line_id", "item_id",
                             "quantity", "cost_amount", "unit_price", "tax_rate", "discount_percent", "net_amount",
                             "tax_amount"),
    "supplier_return": ("id", "number", "supplier_id", "goods_receipt_id", "purchase_order_id",
                        "supplier_invoice_id", "warehouse_id", "return_date", "status", "value_amount",
                        "stock_value", "grni_amount", "net_amount", "tax_amount", "total_amount", "refund_amount",
                        "created_at"),
    "supplier_return_line": ("id", "supplier_return_id", "goods_receipt_line_id", "purchase_order_line_id",
                             "item_id", "quantity", "qty_unbilled", "value_amount", "stock_value", "grni_amount",
                             "net_amount", "tax_amount"),
    "journal_entry": ("id", "number", "entry_date", "source_type", "source_id", "event", "description",
                      "reversal_of_id", "created_at"),
    "journal_line": ("id", "journal_entry_id", "account_id", "debit", "credit", "customer_id", "supplier_id"),
    "stock_move": ("id", "item_id", "warehouse_id", "move_date", "quantity", "value_amount", "source_type",
                   "source_id", "source_line_id", "event", "created_at"),
    "stock_balance": ("item_id", "warehouse_id", "on_hand", "reserved", "value_amount"),
    "document_sequence": ("doc_type", "year", "next_value"),
    "department": ("id", "code", "name", "cost_centre"),
    "employee": ("id", "code", "name", "department_id", "hired_on", "salary", "bank_account", "tax_id", "created_at"),
    "payroll_run": ("id", "period", "run_date", "status", "headcount", "gross_amount", "deduction_amount",
                    "contribution_amount", "net_amount", "paid_on", "created_at"),
    "payroll_line": ("id", "payroll_run_id", "period", "employee_id", "department_id", "payslip"),
    "payroll_run_department": ("payroll_run_id", "department_id", "cost_centre", "headcount", "gross_amount",
                               "deduction_amount", "contribution_amount", "net_amount"),
}

# Parents before children: the order foreign keys are restored and rows counted in.
TABLES: tuple[str, ...] = tuple(COLUMNS)

# Tables whose `id` the seeder allocates (the PostgreSQL sequences are moved past them).
ID_TABLES: tuple[str, ...] = tuple(t for t, cols in COLUMNS.items() if cols[0] == "id")


def money(cents: int) -> str:
    """Integer cents as exact decimal text: 1234 -> '12.34', -5 -> '-0.05'."""
    if cents < 0:
        return "-" + money(-cents)
    return f"{cents // 100}.{cents % 100:02d}"


def four(units: int) -> str:
    """Integer ten-thousandths as exact decimal text: 123456 -> '12.3456'."""
    if units < 0:
        return "-" + four(-units)
    return f"{units // 10000}.{units % 10000:04d}"


def half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for non-negative numerator and positive denominator."""
    return (2 * numerator + denominator) // (2 * denominator)


def half_even(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half to even (Decimal's default), numerator >= 0."""
    quotient, rest = divmod(numerator, denominator)
    twice = 2 * rest
    if twice > denominator or (twice == denominator and quotient % 2):
        quotient += 1
    return quotient
