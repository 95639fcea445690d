"""What each business event posts to the general ledger, as data: lines naming account roles.

Services and the seeder both build their journal entries here, so history and live postings follow
one set of rules. Zero amounts are dropped (a journal line is on exactly one side).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal

from erpcore.domain.accounts import Role
from erpcore.domain.money import ZERO


@dataclass(frozen=True)
class PostingLine:
    role: Role
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    customer_id: int | None = None
    supplier_id: int | None = None


def _dr(role: Role, amount: Decimal, customer_id: int | None = None, supplier_id: int | None = None) -> PostingLine:
    """A debit of `amount`; a negative amount becomes a credit, so callers need not branch on sign."""
    if amount < 0:
        return PostingLine(role, credit=-amount, customer_id=customer_id, supplier_id=supplier_id)
    return PostingLine(role, debit=amount, customer_id=customer_id, supplier_id=supplier_id)


def _cr(role: Role, amount: Decimal, customer_id: int | None = None, supplier_id: int | None = None) -> PostingLine:
    return _dr(role, -amount, customer_id, supplier_id)


def _nonzero(lines: list[PostingLine]) -> list[PostingLine]:
    return [line for line in lines if line.debit or line.credit]


def shipment(cost: Decimal) -> list[PostingLine]:
    """Stock leaves at moving-average cost: Dr COGS / Cr Inventory."""
    return _nonzero([_dr(Role.COGS, cost), _cr(Role.INVENTORY, cost)])


def customer_invoice(customer_id: int, net: Decimal, tax: Decimal) -> list[PostingLine]:
    """Dr AR (total) / Cr Revenue (net) / Cr Output VAT (tax)."""
    return _nonzero([
        _dr(Role.AR, net + tax, customer_id=customer_id),
        _cr(Role.REVENUE, net),
        _cr(Role.OUTPUT_VAT, tax),
    ])


def customer_receipt(customer_id: int, amount: Decimal) -> list[PostingLine]:
    """Dr Bank / Cr AR."""
    return _nonzero([_dr(Role.BANK, amount), _cr(Role.AR, amount, customer_id=customer_id)])


def goods_receipt(value: Decimal) -> list[PostingLine]:
    """Stock arrives at the purchase order price: Dr Inventory / Cr GRNI."""
    return _nonzero([_dr(Role.INVENTORY, value), _cr(Role.GRNI, value)])


def supplier_invoice(supplier_id: int, grni: Decimal, net: Decimal, tax: Decimal) -> list[PostingLine]:
    """Dr GRNI (received value) + Dr/Cr price variance + Dr Input VAT / Cr AP (total)."""
    return _nonzero([
        _dr(Role.GRNI, grni),
        _dr(Role.PRICE_VARIANCE, net - grni),
        _dr(Role.INPUT_VAT, tax),
        _cr(Role.AP, net + tax, supplier_id=supplier_id),
    ])


def supplier_payment(supplier_id: int, amount: Decimal) -> list[PostingLine]:
    """Dr AP / Cr Bank."""
    return _nonzero([_dr(Role.AP, amount, supplier_id=supplier_id), _cr(Role.BANK, amount)])


def capital_injection(amount: Decimal) -> list[PostingLine]:
    """Dr Bank / Cr Share capital: the owners fund the company."""
    return _nonzero([_dr(Role.BANK, amount), _cr(Role.EQUITY, amount)])


def material_issue(cost: Decimal) -> list[PostingLine]:
    """Components leave stock for production at moving-average cost: Dr WIP / Cr Inventory."""
    return _nonzero([_dr(Role.WIP, cost), _cr(Role.INVENTORY, cost)])


def finished_goods_receipt(value: Decimal) -> list[PostingLine]:
    """Finished goods enter stock at the work order's actual cost: Dr Inventory / Cr WIP."""
    return _nonzero([_dr(Role.INVENTORY, value), _cr(Role.WIP, value)])


def production_variance(remaining_wip: Decimal) -> list[PostingLine]:
    """Closing a work order clears what it left in WIP: Dr Production variance / Cr WIP (or back, if negative)."""
    return _nonzero([_dr(Role.PRODUCTION_VARIANCE, remaining_wip), _cr(Role.WIP, remaining_wip)])


def customer_return(customer_id: int, cost: Decimal, net: Decimal, tax: Decimal,
                    refund: Decimal = ZERO) -> list[PostingLine]:
    """Goods back at the cost they left with (Dr Inventory / Cr COGS) and the credit note reversing revenue and
    VAT (Dr Revenue + Dr Output VAT / Cr AR); what the invoice no longer owes is refunded (Cr Bank, not AR)."""
    return _nonzero([
        _dr(Role.INVENTORY, cost), _cr(Role.COGS, cost),
        _dr(Role.REVENUE, net), _dr(Role.OUTPUT_VAT, tax),
        _cr(Role.AR, net + tax - refund, customer_id=customer_id), _cr(Role.BANK, refund),
    ])


def supplier_return(supplier_id: int, stock_value: Decimal, grni: Decimal, net: Decimal, tax: Decimal,
                    refund: Decimal = ZERO) -> list[PostingLine]:
    """Goods back to the supplier: Cr Inventory (the value leaving stock); the unbilled part clears GRNI at
    receipt cost, the billed part is a debit note (Dr AP / Cr Input VAT; what the invoice no longer owes the
    supplier refunds: Dr Bank, not AP); the rest is price variance."""
    return _nonzero([
        _cr(Role.INVENTORY, stock_value),
        _dr(Role.GRNI, grni),
        _dr(Role.AP, net + tax - refund, supplier_id=supplier_id), _dr(Role.BANK, refund),
        _cr(Role.INPUT_VAT, tax),
        _dr(Role.PRICE_VARIANCE, stock_value - grni - net),
    ])


def reversal(lines: list[PostingLine]) -> list[PostingLine]:
    """The entry that nets `lines` to zero: every debit becomes a credit and back."""
    return [replace(line, debit=line.credit, credit=line.debit) for line in lines]


def is_balanced(lines: list[PostingLine]) -> bool:
    return sum((line.debit for line in lines), ZERO) == sum((line.credit for line in lines), ZERO)


@dataclass(frozen=True)
class PendingEntry:
    """A balanced journal entry waiting in its unit of work to be numbered and written at commit."""

    entry_date: dt.date
    source_type: str
    source_id: int
    event: str
    description: str
    lines: list[PostingLine]
    reversal_of_id: int | None = None
