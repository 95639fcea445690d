"""Plan-to-produce rules without a database: bills of materials, their explosion, and work order costing.

A bill of materials (BOM) lists, per unit of a finished item, the quantity of each component and a scrap
factor (the share lost in production: 0.05 needs 5% more). A component may have a BOM of its own: the
explosion walks every level and refuses a cycle, naming it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.money import MAX_AMOUNT, ZERO, show_money, show_qty, to_cents, to_four
from erpcore.exceptions import ValidationFailed

MAX_SCRAP = Decimal(1)  # a scrap factor is a share of the good quantity: 0 <= scrap < 1


@dataclass(frozen=True)
class BomLine:
    """One component of one unit of the finished item."""

    component_id: int
    quantity: Decimal  # per unit of the finished item, before scrap
    scrap_factor: Decimal = ZERO

    def gross(self, quantity: Decimal) -> Decimal:
        """What `quantity` finished units need of this component, scrap included (four places)."""
        return to_four(quantity * self.quantity * (1 + self.scrap_factor))


Boms = Mapping[int, Sequence[BomLine]]  # finished item -> its BOM lines


@dataclass(frozen=True)
class Requirement:
    """One row of an exploded BOM: a component needed at a level under its parent, and whether it is made."""

    level: int  # 1: a component of the item exploded
    parent_id: int
    component_id: int
    quantity: Decimal
    manufactured: bool


def validate_bom(item_id: int, lines: Sequence[BomLine]) -> None:
    """Refuse (422) an empty BOM, a non-positive quantity, a scrap factor outside [0, 1), a component listed
    twice, or the item as its own component."""
    if not lines:
        raise ValidationFailed("a bill of materials needs at least one component")
    seen: set[int] = set()
    for n, line in enumerate(lines, 1):
        if line.quantity <= 0:
            raise ValidationFailed(f"line {n}: quantity per unit must be positive (got {line.quantity})")
        if not ZERO <= line.scrap_factor < MAX_SCRAP:
            raise ValidationFailed(f"line {n}: scrap factor must be at least 0 and below 1 (got {line.scrap_factor})")
        if line.component_id == item_id:
            raise ValidationFailed(f"line {n}: item {item_id} cannot be a component of itself")
        if line.component_id in seen:
            raise ValidationFailed(f"line {n}: component {line.component_id} is listed twice; give one line "
                                   "with the total quantity")
        seen.add(line.component_id)


def require_acyclic(boms: Boms, item_id: int, lines: Sequence[BomLine]) -> None:
    """Refuse (422) a BOM for `item_id` that would make the item, at some level, a component of itself."""
    with_new = {**boms, item_id: lines}
    path = _cycle_from(with_new, item_id, (item_id,))
    if path is not None:
        raise ValidationFailed("the bill of materials makes a cycle: " + " -> ".join(f"item {i}" for i in path))


def _cycle_from(boms: Boms, item_id: int, path: tuple[int, ...]) -> tuple[int, ...] | None:
    for line in boms.get(item_id, ()):
        if line.component_id in path:
            return (*path[path.index(line.component_id):], line.component_id)
        found = _cycle_from(boms, line.component_id, (*path, line.component_id))
        if found is not None:
            return found
    return None


def requirements(lines: Sequence[BomLine], quantity: Decimal) -> dict[int, Decimal]:
    """One level: what `quantity` finished units need of each component, scrap included."""
    return {line.component_id: line.gross(quantity) for line in lines}


def require_plannable(quantity: Decimal, needs: Mapping[int, Decimal], unit_costs: Mapping[int, Decimal]) -> None:
    """Refuse (422) a work order whose component quantity rounds to nothing at four places, or whose quantity
    or cost of a component passes the largest amount a document line may carry."""
    for item, need in needs.items():
        if need <= 0:
            raise ValidationFailed(f"{show_qty(quantity)} units need {show_qty(need)} of item {item} at four "
                                   "decimal places: plan a larger quantity")
        if need > MAX_AMOUNT or need * unit_costs.get(item, ZERO) > MAX_AMOUNT:
            raise ValidationFailed(f"{show_qty(quantity)} units need {show_qty(need)} of item {item}: more than a "
                                   f"document line may carry ({show_money(MAX_AMOUNT)})")


def explode(boms: Boms, item_id: int, quantity: Decimal) -> list[Requirement]:
    """Every level of the BOM of `item_id` for `quantity` units, depth first in BOM line order.

    A manufactured component's own components are needed for its gross quantity (its scrap included).
    A cycle is refused (422) rather than followed.
    """
    if item_id not in boms:
        raise ValidationFailed(f"item {item_id} has no bill of materials")
    out: list[Requirement] = []
    _explode(boms, item_id, quantity, 1, (item_id,), out)
    return out


def _explode(boms: Boms, item_id: int, quantity: Decimal, level: int, path: tuple[int, ...],
             out: list[Requirement]) -> None:
    for line in boms[item_id]:
        if line.component_id in path:
            cycle = " -> ".join(f"item {i}" for i in (*path[path.index(line.component_id):], line.component_id))
            raise ValidationFailed(f"the bill of materials makes a cycle: {cycle}")
        need = line.gross(quantity)
        made = line.component_id in boms
        out.append(Requirement(level, item_id, line.component_id, need, made))
        if made:
            _explode(boms, line.component_id, need, level + 1, (*path, line.component_id), out)


def leaf_requirements(boms: Boms, item_id: int, quantity: Decimal) -> dict[int, Decimal]:
    """The purchased components (no BOM of their own) `quantity` units need in total, over every level."""
    total: dict[int, Decimal] = {}
    for r in explode(boms, item_id, quantity):
        if not r.manufactured:
            total[r.component_id] = total.get(r.component_id, ZERO) + r.quantity
    return total


def rolled_up_cost(boms: Boms, item_id: int, unit_costs: Mapping[int, Decimal]) -> Decimal:
    """The cost of one unit of `item_id`: its purchased components at `unit_costs`, over every level, to the
    four places of a unit cost; an item without a BOM costs its own unit cost."""
    if item_id not in boms:
        return unit_costs.get(item_id, ZERO)
    leaves = leaf_requirements(boms, item_id, Decimal(1))
    return to_four(sum((q * unit_costs.get(i, ZERO) for i, q in leaves.items()), ZERO))


# --- work order costing -------------------------------------------------------------------------------------


def receipt_value(issued_cost: Decimal, planned_quantity: Decimal, received_quantity: Decimal) -> Decimal:
    """The value finished goods enter stock at: the rolled-up actual cost (all issued components) per
    planned unit, times the units received. Receiving the whole planned quantity takes every cent of WIP."""
    if received_quantity >= planned_quantity:
        return issued_cost
    return to_cents(issued_cost * received_quantity / planned_quantity)


def require_receivable(work_order: object, planned: Decimal, received: Decimal) -> Decimal:
    """Refuse (422) a finished goods receipt that is not positive or exceeds the planned quantity."""
    if received <= 0:
        raise ValidationFailed(f"work order {work_order}: the quantity received must be positive (got {received})")
    if received > planned:
        raise ValidationFailed(f"work order {work_order}: {show_qty(received)} received but only "
                               f"{show_qty(planned)} planned")
    return received


@dataclass(frozen=True)
class CostLine:
    """A component line of a work order: what was planned and what was issued, at cost."""

    component_id: int
    planned_quantity: Decimal
    planned_cost: Decimal
    issued_quantity: Decimal
    issued_cost: Decimal


@dataclass(frozen=True)
class ProductionCost:
    """Planned versus actual component cost of a work order, and what stayed in WIP or went to variance."""

    planned_cost: Decimal
    issued_cost: Decimal
    received_cost: Decimal
    variance: Decimal  # posted to production variance at close
    cost_difference: Decimal  # actual components - planned components

    @property
    def in_wip(self) -> Decimal:
        return self.issued_cost - self.received_cost - self.variance


def production_cost(lines: Sequence[CostLine], received_cost: Decimal, variance: Decimal) -> ProductionCost:
    """Sum a work order's component lines into its planned and actual cost."""
    planned = sum((line.planned_cost for line in lines), ZERO)
    issued = sum((line.issued_cost for line in lines), ZERO)
    return ProductionCost(planned, issued, received_cost, variance, issued - planned)
