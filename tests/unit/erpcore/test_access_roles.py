"""The role table: each built-in job holds what its job needs and nothing of the others' work; old colon names
and old roles keep working; custom roles hold exactly their grants."""

from __future__ import annotations

import pytest

from erpcore import access
from erpcore.access import PERMISSIONS, RENAMED, AccessRole, Actor, allowed, holds, role_permissions
from erpcore.exceptions import Forbidden

R = AccessRole
JOBS = [R.SALES_CLERK, R.SALES_MANAGER, R.BUYER, R.WAREHOUSE, R.AP_CLERK, R.AR_CLERK, R.CONTROLLER, R.HR, R.AUDITOR]


def test_every_permission_is_dotted_domain_object_action() -> None:
    for permission in PERMISSIONS:
        parts = permission.split(".")
        assert len(parts) in (2, 3) and all(p.replace("_", "").isalnum() for p in parts), permission


def test_admin_holds_everything_and_the_readers_hold_only_reads() -> None:
    assert role_permissions(R.ADMIN) == sorted(PERMISSIONS)
    for reader in (R.VIEWER, R.AUDITOR):
        assert role_permissions(reader) and all(access.is_read(p) for p in role_permissions(reader))
    assert allowed(R.AUDITOR, "audit.trail.read") and not allowed(R.VIEWER, "audit.trail.read")


@pytest.mark.parametrize(("role", "may", "may_not"), [
    (R.SALES_CLERK, "sales.order.create", ["sales.order.approve", "purchase.order.create", "sales.invoice.post"]),
    (R.SALES_MANAGER, "sales.order.approve", ["sales.order.create", "purchase.payment.post"]),
    (R.BUYER, "purchase.order.create", ["purchase.order.approve", "purchase.invoice.post", "purchase.payment.post"]),
    (R.WAREHOUSE, "warehouse.receipt.post", ["purchase.order.create", "sales.invoice.post", "purchase.payment.post"]),
    (R.AP_CLERK, "purchase.invoice.post", ["purchase.payment.post", "purchase.order.approve", "sales.invoice.post"]),
    (R.AR_CLERK, "sales.receipt.post", ["sales.order.approve", "purchase.invoice.post"]),
    (R.CONTROLLER, "finance.period.close", ["finance.period.reopen", "sales.order.create", "admin.tokens"]),
    (R.AUDITOR, "finance.report.read", ["finance.period.close", "admin.users", "sales.order.create"]),
])
def test_each_job_holds_its_work_and_not_the_others(role: AccessRole, may: str, may_not: list[str]) -> None:
    assert allowed(role, may)
    assert not any(allowed(role, p) for p in may_not)


def test_no_job_writes_what_another_job_approves() -> None:
    """Creating and approving a document are never in one job (segregation of duties by design)."""
    pairs = [("sales.order.create", "sales.order.approve"), ("purchase.order.create", "purchase.order.approve"),
             ("purchase.invoice.post", "purchase.payment.post")]
    for role in JOBS:
        for first, second in pairs:
            assert not (allowed(role, first) and allowed(role, second)), (role, first, second)


def test_only_admin_manages_users_tokens_roles_and_reopens_periods() -> None:
    for permission in ("admin.users", "admin.tokens", "admin.roles", "finance.period.reopen"):
        assert [r for r in AccessRole if allowed(r, permission)] == [R.ADMIN]


def test_old_names_resolve_to_what_they_became_and_old_roles_keep_their_work() -> None:
    assert all(all(new in PERMISSIONS for new in news) for news in RENAMED.values())
    assert allowed(R.SALES, "sales:write") and not allowed(R.SALES_CLERK, "sales:write")
    assert allowed(R.FINANCE, "periods:close") and allowed(R.OPERATIONS, "operations:write")
    with pytest.raises(KeyError):
        allowed(R.ADMIN, "sales:nothing")


def test_a_permission_named_with_old_roles_only_reaches_their_successor_jobs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(PERMISSIONS, "finance.budget.write", frozenset({R.FINANCE}))
    monkeypatch.setitem(PERMISSIONS, "hr.payroll.run", frozenset({R.FINANCE}))
    monkeypatch.setitem(PERMISSIONS, "production.workorder.release", frozenset({R.WAREHOUSE, R.PURCHASING}))
    monkeypatch.setitem(PERMISSIONS, "purchase.budget.approve", frozenset({R.PURCHASING, R.CONTROLLER}))
    assert allowed(R.CONTROLLER, "finance.budget.write") and not allowed(R.AP_CLERK, "finance.budget.write")
    assert allowed(R.BUYER, "production.workorder.release") and allowed(R.WAREHOUSE, "production.workorder.release")
    assert not allowed(R.BUYER, "purchase.budget.approve")  # a job is named: the table is explicit
    assert allowed(R.HR, "hr.payroll.run") and allowed(R.FINANCE, "hr.payroll.run")


def test_a_custom_role_holds_exactly_its_grants() -> None:
    desk = Actor("cd", "credit_desk", grants=frozenset({"sales.order.read", "sales.invoice.read"}))
    assert holds(desk, "sales.order.read") and holds(desk, "invoices:read")
    assert not holds(desk, "sales.order.create") and not holds(desk, "sales:write")
    with pytest.raises(Forbidden, match="role 'credit_desk' may not do this"):
        access.require(desk, "sales.receipt.post")
    assert not holds(Actor("x", "credit_desk"), "sales.order.read")  # a custom role without its grants: nothing


def test_the_cli_actor_is_named_and_may_act_as_a_narrower_role(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPOPS_USER", "alice")
    monkeypatch.setenv("ERPOPS_ROLE", "controller")
    assert access.cli_actor() == Actor("cli:alice", R.CONTROLLER)
    monkeypatch.setenv("ERPOPS_ROLE", "root")
    with pytest.raises(Exception, match="ERPOPS_ROLE='root' is not a built-in role"):
        access.cli_actor()


def test_a_guarded_call_without_an_own_entry_is_recorded_by_its_arguments() -> None:
    def approve(uow: object, order_id: int, note: str = "") -> None: ...

    import inspect

    call = access.Call("sales.order.approve", "approve", (7,), {"note": "ok"}, inspect.signature(approve))
    entry = call.entry()
    assert (entry.action, entry.entity, entry.entity_id) == ("sales.order.approve", "order", 7)
    assert entry.after == {"order_id": 7, "note": "ok"}
    odd = access.Call("x.y.z", "approve", (1, 2, 3, 4), {}, inspect.signature(approve)).arguments()
    assert odd == {"arg0": 1, "arg1": 2, "arg2": 3, "arg3": 4}
