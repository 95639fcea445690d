"""Rounding and tax arithmetic: amounts to the cent, quantities and unit costs to four places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from erpcore.exceptions import ValidationFailed

CENT = Decimal("0.01")
FOUR = Decimal("0.0001")
ZERO = Decimal("0")
# Amounts are NUMERIC(18, 4): 14 digits before the point. A document total must stay well inside that, with
# room for sums of many lines; a line beyond it is refused before any arithmetic can overflow a column.
MAX_AMOUNT = Decimal("1e12")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_four(value: Decimal) -> Decimal:
    return value.quantize(FOUR, rounding=ROUND_HALF_UP)


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal,
                 discount_percent: Decimal = ZERO) -> tuple[Decimal, Decimal]:
    """Net (after the line's discount) and tax of one document line, each rounded to the cent.

    A line whose amount would pass `MAX_AMOUNT` is refused (422), before it can overflow a column.
    """
    gross = quantity * unit_price
    if gross > MAX_AMOUNT:
        raise ValidationFailed(f"line amount {show_qty(quantity)} x {show_money(unit_price)} is over the largest "
                               f"amount a document line may carry ({show_money(MAX_AMOUNT)})")
    net = to_cents(gross * (1 - discount_percent / 100))
    return net, to_cents(net * tax_rate)


def require_cents(what: str, amount: Decimal) -> Decimal:
    """A cash amount in the currency's minor unit (cents): more decimals are refused (422), never rounded."""
    if amount != to_cents(amount):
        raise ValidationFailed(f"{what} {amount} has more decimals than the currency's minor unit (0.01)")
    if amount > MAX_AMOUNT:
        raise ValidationFailed(f"{what} {show_money(amount)} is over the largest amount ({show_money(MAX_AMOUNT)})")
    return amount


def show_qty(value: Decimal) -> str:
    """A quantity for people: no trailing zeros (12, 2.5)."""
    return format(value.normalize(), "f") if value else "0"


def show_money(value: Decimal) -> str:
    """An amount or price for people: cents, or more places only when it has them (5.20, 0.1234)."""
    cents = to_cents(value)
    return format(cents if cents == value else value.normalize(), "f")
