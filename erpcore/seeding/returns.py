"""Seeded returns and cancels: a customer sends part of a delivery back on the day it is invoiced (a credit note
that settles part of the invoice),
part of a delivery goes back to the supplier on arrival before it is billed (GRNI cleared, a replacement
delivered), and now and then a customer receipt or a supplier payment is cancelled and made again.

Which documents are picked follows from their ids, never from the random stream, so adding these events leaves
the rest of the history as it was; their rows and postings are those of services.returns and .reversals.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain import postings
from erpcore.domain.status import PostedStatus
from erpcore.seeding import ledger
from erpcore.seeding.context import Context
from erpcore.seeding.rows import Row, half_up, money

CUSTOMER_RETURN_EVERY = 97  # invoices
SUPPLIER_RETURN_EVERY = 61  # goods receipts
CANCELLED_RECEIPT_EVERY = 181  # customer receipts
CANCELLED_PAYMENT_EVERY = 97  # supplier payments
REPLACEMENT_AFTER_DAYS = 5


FIRST_PICK = 5  # the 5th document of a kind is the first picked, so even a short history has some


def picked(doc_id: int, every: int) -> bool:
    return doc_id % every == FIRST_PICK


def _part(total: int, quantity: int, back: int) -> int:
    """returns.share for a line's first return: pro rata, half up; all of it when every unit goes back."""
    return total if back >= quantity else half_up(total * back, quantity)


@dataclass(frozen=True)
class Invoiced:
    """The first line of a new customer invoice: its shipment line row and what it billed."""

    shipment_row: Row
    invoice_line_id: int
    item: int
    price: int
    net: int
    tax: int


def customer_return(ctx: Context, customer_id: int, order_id: int, invoice_id: int, first: Invoiced,
                    created: str) -> int:
    """returns.create_customer_return of half the line, the day it is invoiced: stock in at its shipped cost, a
    credit note at the invoiced price settling part of the unpaid invoice (Dr Inventory, Cr COGS; Dr Revenue,
    Dr Output VAT, Cr AR). Returns the credit (cents); a line of one unit is not returned (0)."""
    line_id, shipment_id, _, _, item_id, quantity, _, cost_text = first.shipment_row[:8]
    if quantity < 2:  # the credit stays below the invoice, so the invoice is still paid by a receipt
        return 0
    back = quantity // 2
    cost = _part(int(Decimal(cost_text).scaleb(2)), quantity, back)
    net, tax = _part(first.net, quantity, back), _part(first.tax, quantity, back)
    ctx.on_hand[first.item] += back
    ctx.value[first.item] += cost
    return_id = ctx.ids["customer_return"]()
    spec = ctx.items[first.item]
    ctx.sink.rows["customer_return"].append((
        return_id, ctx.number("customer_return", ctx.year), customer_id, shipment_id, order_id, invoice_id,
        ctx.ref.warehouse_id, ctx.today, PostedStatus.POSTED.value, money(cost), money(net), money(tax),
        money(net + tax), "0", created))
    return_line = ctx.ids["customer_return_line"]()
    ctx.sink.rows["customer_return_line"].append((
        return_line, return_id, line_id, first.invoice_line_id, item_id, back, money(cost), money(first.price),
        spec.tax_rate, "0", money(net), money(tax)))
    ledger.move(ctx, item_id, back, cost, "customer_return", return_id, return_line, created)
    ledger.post(ctx, "customer_return", return_id, f"Customer return and credit note for shipment {shipment_id}",
                postings.customer_return(customer_id, ledger.amount(cost), ledger.amount(net), ledger.amount(tax)),
                created)
    return net + tax


def supplier_return(ctx: Context, supplier_id: int, po_id: int, gr_id: int, line: object, receipt_line_id: int,
                    quantity: int, created: str) -> int:
    """returns.create_supplier_return of a quarter of a receipt line (at least one) before it is billed: stock
    and GRNI out at receipt cost. Returns the quantity sent back (the PO line expects it again)."""
    item, price, po_line_id = line.item, line.price, line.id  # type: ignore[attr-defined]
    back = max(1, quantity // 4)
    at_cost = back * price
    have, worth = ctx.on_hand[item], ctx.value[item]
    stock_value = worth if back >= have else min(at_cost, worth)
    ctx.on_hand[item], ctx.value[item] = have - back, worth - stock_value
    line.received -= back  # type: ignore[attr-defined]
    return_id = ctx.ids["supplier_return"]()
    item_id = ctx.items[item].id
    ctx.sink.rows["supplier_return"].append((
        return_id, ctx.number("supplier_return", ctx.year), supplier_id, gr_id, po_id, None, ctx.ref.warehouse_id,
        ctx.today, PostedStatus.POSTED.value, money(at_cost), money(stock_value), money(at_cost), "0", "0", "0", "0",
        created))
    return_line = ctx.ids["supplier_return_line"]()
    ctx.sink.rows["supplier_return_line"].append((
        return_line, return_id, receipt_line_id, po_line_id, item_id, back, back, money(at_cost),
        money(stock_value), money(at_cost), "0", "0"))
    ledger.move(ctx, item_id, -back, -stock_value, "supplier_return", return_id, return_line, created)
    ledger.post(ctx, "supplier_return", return_id, f"Return to supplier from goods receipt {gr_id}",
                postings.supplier_return(supplier_id, ledger.amount(stock_value), ledger.amount(at_cost),
                                         ledger.amount(0), ledger.amount(0)), created)
    return back


def cancelled(ctx: Context, table: str, row: Row, source_id: int, description: str,
              lines: list[postings.PostingLine], created: str) -> None:
    """A receipt or payment posted and cancelled the same day (reversals.cancel_*): its row, cancelled, and
    the entry with the reversal that nets it to zero."""
    ctx.sink.rows[table].append(row)
    original = ledger.post(ctx, table, source_id, description, lines, created)
    ledger.post(ctx, table, source_id, f"Reversal of: {description}", postings.reversal(lines), created,
                event="cancel", reversal_of_id=original)
