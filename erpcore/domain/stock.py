"""Stock valuation at moving-average cost and reservation arithmetic."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import ZERO, to_cents, to_four


@dataclass(frozen=True)
class Balance:
    on_hand: Decimal
    reserved: Decimal
    value: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def average_cost(self) -> Decimal:
        return to_four(self.value / self.on_hand) if self.on_hand else ZERO


def issue_value(balance: Balance, qty: Decimal) -> Decimal:
    """Value leaving with `qty`: all of it when the last unit goes, so no residue stays behind."""
    if qty >= balance.on_hand:
        return balance.value
    return to_cents(balance.value * qty / balance.on_hand)


def reservable(requested: Decimal, balance: Balance) -> Decimal:
    """How much of `requested` free stock can cover now."""
    return max(ZERO, min(requested, balance.available))


def below_safety(on_hand_after: Decimal, reserved_after: Decimal, safety_stock: Decimal) -> bool:
    """Free stock under the item's safety level: time to reorder."""
    return safety_stock > 0 and on_hand_after - reserved_after < safety_stock
