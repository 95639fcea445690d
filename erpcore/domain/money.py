"""Rounding and tax arithmetic: amounts to the cent, quantities and unit costs to four places."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FOUR = Decimal("0.0001")
ZERO = Decimal("0")


def to_cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def to_four(value: Decimal) -> Decimal:
    return value.quantize(FOUR, rounding=ROUND_HALF_UP)


def line_amounts(quantity: Decimal, unit_price: Decimal, tax_rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and tax of one document line, each rounded to the cent."""
    net = to_cents(quantity * unit_price)
    return net, to_cents(net * tax_rate)


def show_qty(value: Decimal) -> str:
    """A quantity for people: no trailing zeros (12, 2.5)."""
    return format(value.normalize(), "f") if value else "0"


def show_money(value: Decimal) -> str:
    """An amount or price for people: cents, or more places only when it has them (5.20, 0.1234)."""
    cents = to_cents(value)
    return format(cents if cents == value else value.normalize(), "f")
