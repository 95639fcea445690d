"""Decisions of order-to-cash and procure-to-pay that need no database: what may be shipped or received,
what approval can reserve, whether credit allows an order, how much a receipt or payment may settle."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain import money
from erpcore.domain.money import show_money, show_qty
from erpcore.domain.stock import Balance, reservable
from erpcore.exceptions import Conflict, CreditLimitExceeded, InsufficientStock, ValidationFailed


@dataclass(frozen=True)
class OpenLine:
    """A document line's ordered quantity and how much of it is done (shipped, or received)."""

    ordered: Decimal
    done: Decimal

    @property
    def open(self) -> Decimal:
        return self.ordered - self.done


@dataclass(frozen=True)
class Wording:
    """How a movement is named in messages: ('ship', 'shipped', 'over-shipment') or the receiving words."""

    verb: str
    past: str
    overrun: str


SHIPPING = Wording("ship", "requested", "over-shipment")
RECEIVING = Wording("receive", "received", "over-receipt")


def quantities_to_move(document: str, lines: Mapping[int, OpenLine], requested: Mapping[int, Decimal] | None,
                       words: Wording) -> dict[int, Decimal]:
    """The quantity per line number to ship or receive: all that is open when `requested` is None, else
    `requested`, refused when a line is unknown, not positive, or more than is open."""
    if requested is None:
        wanted = {n: line.open for n, line in lines.items() if line.open > 0}
        if not wanted:
            raise Conflict(f"{document} has nothing left to {words.verb}")
        return wanted
    if not requested:
        raise ValidationFailed(f"a {'shipment' if words is SHIPPING else 'goods receipt'} needs at least one line")
    for line_no, qty in requested.items():
        if line_no not in lines:
            raise ValidationFailed(f"{document} has no line {line_no}")
        if qty <= 0:
            raise ValidationFailed(f"line {line_no}: quantity must be positive (got {qty})")
        if qty > lines[line_no].open:
            raise ValidationFailed(f"{words.overrun}: line {line_no} has {show_qty(lines[line_no].open)} open, "
                                   f"{show_qty(qty)} {words.past}")
    return dict(requested)


Key = tuple[int, int]  # (item_id, warehouse_id)


@dataclass(frozen=True)
class LineToReserve:
    line_no: int
    key: Key
    quantity: Decimal


@dataclass(frozen=True)
class Reservation:
    """What approval reserves per line number, and what it could not (the shortfall raises a requisition)."""

    reserved: dict[int, Decimal]
    shortfall: dict[int, Decimal]


def plan_reservation(document: str, lines: Sequence[LineToReserve], balances: Mapping[Key, Balance],
                     backorder_allowed: bool) -> tuple[Reservation, dict[Key, Balance]]:
    """Reserve each line from its balance, in line order; refuse (409) when backorders are not allowed and
    a line cannot be covered in full. Returns the plan and the balances after it."""
    after = dict(balances)
    reserved, shortfall = {}, {}
    for line in lines:
        balance = after[line.key]
        got = reservable(line.quantity, balance)
        if got < line.quantity and not backorder_allowed:
            raise InsufficientStock(
                f"{document} line {line.line_no}: {show_qty(line.quantity)} wanted, "
                f"{show_qty(balance.available)} free, and the order allows no backorder")
        after[line.key] = Balance(balance.on_hand, balance.reserved + got, balance.value)
        reserved[line.line_no] = got
        if got < line.quantity:
            shortfall[line.line_no] = line.quantity - got
    return Reservation(reserved, shortfall), after


def check_credit(customer: object, limit: Decimal, open_receivable: Decimal, order_total: Decimal) -> None:
    """Refuse (409) an order that takes the customer's open balance past a credit limit; 0 means no limit."""
    if limit > 0 and open_receivable + order_total > limit:
        raise CreditLimitExceeded(f"customer {customer} credit limit {show_money(limit)} exceeded: open "
                                  f"{show_money(open_receivable)} + order {show_money(order_total)}")


def settlement(what: str, open_amount: Decimal, requested: Decimal | None) -> Decimal:
    """The amount a receipt or payment settles: the open amount by default; positive and at most open."""
    amount = open_amount if requested is None else money.require_cents(f"{what} amount", requested)
    if amount <= 0:
        raise ValidationFailed(f"{what} amount must be positive (got {amount})")
    if amount > open_amount:
        raise ValidationFailed(f"{what} {show_money(amount)} exceeds the open amount {show_money(open_amount)}")
    return amount


