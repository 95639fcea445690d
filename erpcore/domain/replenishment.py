"""Replenishment that counts what is coming: the supply position of an item in a warehouse, and how much a
requisition must ask for to bring it back to the safety level.

Available to promise = on hand - reserved + on order (purchase order lines not yet received, and work orders
not yet received into stock) + already
requisitioned (open requisitions not earmarked for a sales order's shortfall). The issue writes the last term
as "- already requisitioned": an open requisition is supply on its way, so it is taken off what still has to
be requisitioned, which is what `to_requisition` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import ZERO


@dataclass(frozen=True)
class Position:
    on_hand: Decimal
    reserved: Decimal
    on_order: Decimal = ZERO
    requisitioned: Decimal = ZERO

    @property
    def free(self) -> Decimal:
        return self.on_hand - self.reserved

    @property
    def available_to_promise(self) -> Decimal:
        return self.free + self.on_order + self.requisitioned


@dataclass(frozen=True)
class Replenishment:
    """How much to requisition (zero: none) and why."""

    quantity: Decimal
    reason: str


def to_requisition(position: Position, safety_stock: Decimal, reorder_qty: Decimal) -> Replenishment:
    """A requisition only when free stock is under the safety level AND what is coming does not lift it back:
    then the reorder quantity, or the gap to the safety level when that is larger."""
    if safety_stock <= 0 or position.free >= safety_stock:
        return Replenishment(ZERO, "free stock at or above the safety level")
    atp = position.available_to_promise
    if atp >= safety_stock:
        return Replenishment(ZERO, f"available to promise {atp} (on order {position.on_order}, requisitioned "
                                   f"{position.requisitioned}) covers the safety level {safety_stock}")
    quantity = max(reorder_qty, safety_stock - atp)
    return Replenishment(quantity, f"available to promise {atp} under the safety level {safety_stock}")


def after_cancelled_demand(requisitioned: Decimal, demand_withdrawn: Decimal) -> Decimal:
    """What an open shortage requisition still asks for once `demand_withdrawn` of the demand that raised it is
    gone (zero: cancel it)."""
    return max(ZERO, requisitioned - demand_withdrawn)
