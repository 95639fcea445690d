"""Returns in plain Python: how much of a shipment or goods receipt line may still go back, and what share of
the value, revenue and tax it moved each return takes, so that the returns of a line add up to it exactly.

A return line links to its source line (a shipment line, or a goods receipt line); what was returned is the sum
of those links, never a counter. A source line's last units take what is left of its amounts, so rounding
never leaves a cent behind nor credits one too many.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import ZERO, show_money, show_qty, to_cents
from erpcore.domain.stock import Balance
from erpcore.exceptions import InsufficientStock, ValidationFailed


@dataclass(frozen=True)
class Source:
    """A line goods left or arrived with: its quantity, and how much of it earlier returns took back."""

    quantity: Decimal
    returned: Decimal

    @property
    def returnable(self) -> Decimal:
        return self.quantity - self.returned


@dataclass(frozen=True)
class Shared:
    """An amount a source line carried (cost, net, tax) and how much of it earlier returns took."""

    total: Decimal
    taken: Decimal = ZERO


def quantities_to_return(document: str, sources: Mapping[int, Source],
                         requested: Mapping[int, Decimal] | None) -> dict[int, Decimal]:
    """The quantity per source line id to return: all that is still returnable when `requested` is None;
    else `requested`, refused (422) when a line is not the document's, not positive, or more than was
    shipped or received minus what earlier returns took back."""
    if requested is None:
        wanted = {line_id: s.returnable for line_id, s in sources.items() if s.returnable > 0}
        if not wanted:
            raise ValidationFailed(f"{document} has nothing left to return")
        return wanted
    if not requested:
        raise ValidationFailed("a return needs at least one line")
    for line_id, qty in requested.items():
        if line_id not in sources:
            raise ValidationFailed(f"{document} has no line {line_id}")
        if qty <= 0:
            raise ValidationFailed(f"line {line_id}: quantity must be positive (got {show_qty(qty)})")
        source = sources[line_id]
        if qty > source.returnable:
            raise ValidationFailed(
                f"over-return: line {line_id} moved {show_qty(source.quantity)}, {show_qty(source.returned)} "
                f"already returned, {show_qty(qty)} requested (at most {show_qty(source.returnable)})")
    return dict(requested)


def require_invoiced(line_id: int, invoiced: Decimal, credited: Decimal, qty: Decimal) -> None:
    """A customer return credits what was invoiced: shipped goods not invoiced yet are taken back by cancelling
    their shipment instead (422 otherwise)."""
    if qty > invoiced - credited:
        raise ValidationFailed(
            f"line {line_id}: {show_qty(qty)} to return but only {show_qty(invoiced - credited)} invoiced and not "
            "yet credited; cancel the uninvoiced shipment instead of returning it")


def share(amount: Shared, source: Source, qty: Decimal) -> Decimal:
    """The part of `amount` that `qty` of `source` takes: pro rata to the cent, and all that is left when these
    are the line's last units (so a line's returns add up to its amount exactly)."""
    if source.returned + qty >= source.quantity:
        return amount.total - amount.taken
    return to_cents(amount.total * qty / source.quantity)


def split_billed(qty: Decimal, unbilled: Decimal) -> tuple[Decimal, Decimal]:
    """A supplier return's (unbilled, billed) parts: goods not invoiced yet go back first (clearing GRNI), the
    rest is billed and goes on a debit note."""
    not_billed = min(qty, max(unbilled, ZERO))
    return not_billed, qty - not_billed


def stock_out(document: str, sku: object, balance: Balance, qty: Decimal, at_cost: Decimal) -> Decimal:
    """The stock value leaving with a supplier return valued at receipt cost: the receipt cost, but never more
    than the balance holds, and all of it when the last units go (the difference is a price variance).
    Refused (409) when free stock cannot cover the quantity."""
    if qty > balance.available:
        raise InsufficientStock(f"{document}: item {sku} has {show_qty(balance.available)} free, "
                                f"{show_qty(qty)} to send back")
    if qty >= balance.on_hand:
        return balance.value
    return min(at_cost, balance.value)


def reversible(document: str, sku: object, balance: Balance, qty: Decimal, value: Decimal) -> Balance:
    """The balance after a goods receipt line is taken back at exactly its value (a reversal nets to zero);
    refused (409) when free stock cannot cover it or the stock left would carry a value it cannot hold."""
    if qty > balance.available:
        raise InsufficientStock(f"{document}: item {sku} has {show_qty(balance.available)} free, the receipt "
                                f"brought {show_qty(qty)}; return the goods to the supplier instead")
    after = Balance(balance.on_hand - qty, balance.reserved, balance.value - value)
    if after.value < 0 or (after.on_hand == 0 and after.value != 0):
        raise InsufficientStock(f"{document}: item {sku} is valued {show_money(balance.value)} for "
                                f"{show_qty(balance.on_hand)}, reversing {show_money(value)} would leave "
                                f"{show_money(after.value)} on {show_qty(after.on_hand)}; return the goods instead")
    return after


def settle(note_total: Decimal, invoice_open: Decimal) -> tuple[Decimal, Decimal]:
    """A credit or debit note's (applied, refunded) parts: it settles what its invoice still owes, and the rest
    is paid back in cash, so a note never leaves an open item of its own."""
    applied = min(note_total, max(invoice_open, ZERO))
    return applied, note_total - applied
