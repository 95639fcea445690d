"""Three-way match: purchase order price, received quantity and invoiced quantity within tolerances."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import ZERO, show_money, show_qty, to_cents


@dataclass(frozen=True)
class Tolerances:
    price: Decimal = Decimal("0.02")  # fraction of the PO price
    quantity: Decimal = ZERO  # fraction of the received quantity


@dataclass(frozen=True)
class MatchLine:
    line_no: int
    sku: str
    po_price: Decimal
    qty_received: Decimal
    qty_invoiced_before: Decimal  # already matched on earlier invoices
    qty: Decimal
    price: Decimal


@dataclass(frozen=True)
class MatchResult:
    matched: bool
    reasons: tuple[str, ...]

    @property
    def reason(self) -> str:
        return "; ".join(self.reasons) if self.reasons else "matched within tolerances"


def three_way_match(lines: list[MatchLine], tolerances: Tolerances) -> MatchResult:
    """Match every invoice line; any line out of tolerance holds the whole invoice, with every reason.

    Several lines of one invoice may bill the same PO line: each is compared with what earlier invoices
    AND the earlier lines of this invoice already billed of it.
    """
    reasons: list[str] = []
    billed_here: dict[int, Decimal] = {}
    for line in lines:
        before = line.qty_invoiced_before + billed_here.get(line.line_no, ZERO)
        billed_here[line.line_no] = billed_here.get(line.line_no, ZERO) + line.qty
        allowed_qty = line.qty_received * (1 + tolerances.quantity) - before
        if line.qty > allowed_qty:
            reasons.append(
                f"line {line.line_no} ({line.sku}): invoiced {show_qty(line.qty)} but only "
                f"{show_qty(max(allowed_qty, ZERO))} received and not yet invoiced"
            )
        if line.po_price == 0:
            over = line.price > 0
        else:
            over = abs(line.price - line.po_price) > line.po_price * tolerances.price
        if over:
            reasons.append(
                f"line {line.line_no} ({line.sku}): price {show_money(line.price)} differs from PO price "
                f"{show_money(line.po_price)} by more than {show_qty(tolerances.price * 100)}%"
            )
    return MatchResult(matched=not reasons, reasons=tuple(reasons))


@dataclass(frozen=True)
class ReceivedLine:
    """What a PO line received (quantity and value at receipt cost) and what matched invoices billed of it."""

    qty_received: Decimal
    value_received: Decimal
    qty_billed: Decimal
    grni_cleared: Decimal


def grni_to_clear(line: ReceivedLine, qty: Decimal) -> Decimal:
    """The GRNI an invoice line billing `qty` clears: its share of the received value, such that the PO line's
    GRNI is exactly zero once it is fully received and fully billed (any rounding goes to price variance)."""
    billed_after = line.qty_billed + qty
    if line.qty_received <= 0:
        return ZERO
    if billed_after >= line.qty_received:
        cleared_after = line.value_received
    else:
        cleared_after = to_cents(line.value_received * billed_after / line.qty_received)
    return cleared_after - line.grni_cleared
