"""The controls' services declare dotted permissions; a role without one is refused before any work."""

from __future__ import annotations

from typing import Any

import pytest

from erpcore import access
from erpcore.access import AccessRole, Actor
from erpcore.exceptions import Forbidden
from erpcore.services import budgets, purchasing, rulebook, sales
from erpcore.services.unit_of_work import UnitOfWork

SERVICES = {
    rulebook.load_rulebook: "rules.write", rulebook.set_rule: "rules.write", rulebook.delete_rule: "rules.write",
    rulebook.set_control: "rules.write", budgets.set_budget: "finance.budget.write",
    purchasing.decide_purchase_order: "purchase.order.approve", sales.decide_sales_order: "sales.order.approve",
}


class Unused:
    """Resources a refused service must never touch."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"a refused service used resources.{name}")


@pytest.mark.parametrize("service", list(SERVICES), ids=lambda s: s.__name__)
def test_each_control_service_declares_its_dotted_permission(service: Any) -> None:
    assert access.permission_of(service) == SERVICES[service]


@pytest.mark.parametrize(("service", "role"), [
    (rulebook.set_rule, AccessRole.FINANCE), (rulebook.load_rulebook, AccessRole.VIEWER),
    (budgets.set_budget, AccessRole.PURCHASING), (purchasing.decide_purchase_order, AccessRole.SALES),
    (sales.decide_sales_order, AccessRole.PURCHASING), (purchasing.decide_purchase_order, AccessRole.VIEWER),
])
def test_a_role_without_the_permission_is_refused_before_any_work(service: Any, role: AccessRole) -> None:
    uow = UnitOfWork(Unused(), actor=Actor("x", role))
    with pytest.raises(Forbidden, match=f"needs {SERVICES[service]}"):
        service(uow, 1, "approve")


def test_viewers_read_dotted_read_permissions_and_write_none() -> None:
    assert access.allowed(AccessRole.VIEWER, "rules.read") and access.allowed(AccessRole.VIEWER, "finance.budget.read")
    assert not access.allowed(AccessRole.VIEWER, "rules.write")
    assert access.allowed(AccessRole.FINANCE, "finance.budget.write")
    assert not access.allowed(AccessRole.FINANCE, "rules.write")  # rules are an admin's
