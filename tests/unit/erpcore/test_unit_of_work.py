"""The unit of work on a bare in-memory engine (no ERP schema): its pre-commit steps, its refusal to nest,
and the permission every service declares. Milliseconds, no database server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pytest
from sqlalchemy import Connection, Engine, create_engine, event, text

from erpcore import access
from erpcore.access import AccessRole, Actor
from erpcore.crypto import Keyring
from erpcore.domain.accounts import Role
from erpcore.domain.dates import DateWindow
from erpcore.domain.events import Event
from erpcore.domain.matching import Tolerances
from erpcore.exceptions import Forbidden
from erpcore.services import master, purchasing, returns, reversals, sales
from erpcore.services.messagebus import MessageBus
from erpcore.services.unit_of_work import NestedUnitOfWork, Step, UnitOfWork


@dataclass
class FakeResources:
    """A `Resources` on an in-memory SQLite engine with one table, `log`."""

    engine: Engine
    tolerances: Tolerances = field(default_factory=Tolerances)
    dates: DateWindow = field(default_factory=DateWindow)
    max_discount_percent: Decimal = Decimal(50)
    keyring: Keyring = field(default_factory=Keyring)

    @property
    def number_blocks(self) -> object:
        raise AssertionError("not used here")

    def account_ids(self, conn: Connection) -> dict[Role, int]:
        return {}


@pytest.fixture
def resources() -> Iterator[FakeResources]:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE log (what TEXT)"))
    yield FakeResources(engine)
    engine.dispose()


def logged(resources: FakeResources) -> list[str]:
    with resources.engine.connect() as conn:
        return [r[0] for r in conn.execute(text("SELECT what FROM log ORDER BY rowid"))]


def write(uow: UnitOfWork, what: str) -> None:
    uow.conn.execute(text("INSERT INTO log VALUES (:w)"), {"w": what})


def step(name: str) -> Step:
    return lambda uow: write(uow, name)


def test_steps_run_in_order_inside_the_transaction_then_it_commits(resources: FakeResources) -> None:
    uow = UnitOfWork(resources, (step("events"), step("idempotency"), step("journal")))
    with uow:
        write(uow, "document")
        uow.commit()
    assert logged(resources) == ["document", "events", "idempotency", "journal"]


def test_a_failing_step_fails_the_write_and_nothing_stays(resources: FakeResources) -> None:
    def boom(uow: UnitOfWork) -> None:
        raise RuntimeError("handler failed")

    uow = UnitOfWork(resources, (step("events"), boom, step("journal")))
    with pytest.raises(RuntimeError, match="handler failed"), uow:
        write(uow, "document")
        uow.commit()
    assert logged(resources) == []


def test_leaving_without_commit_rolls_back(resources: FakeResources) -> None:
    with UnitOfWork(resources) as uow:
        write(uow, "document")
    assert logged(resources) == []


def test_a_unit_of_work_inside_another_is_refused_and_the_outer_write_is_not_committed(
        resources: FakeResources) -> None:
    outer = UnitOfWork(resources)
    with pytest.raises(NestedUnitOfWork, match="already open"), outer:
        write(outer, "outer's partial write")
        with UnitOfWork(resources) as inner:
            inner.commit()
    assert logged(resources) == []


def test_re_entering_the_same_unit_of_work_is_refused(resources: FakeResources) -> None:
    uow = UnitOfWork(resources)
    with pytest.raises(NestedUnitOfWork), uow, uow:
        pass


def test_a_closed_unit_of_work_can_be_used_again(resources: FakeResources) -> None:
    uow = UnitOfWork(resources)
    for n in range(2):
        with uow:
            write(uow, f"run {n}")
            uow.commit()
    assert logged(resources) == ["run 0", "run 1"]


def test_the_connection_is_only_there_inside_with(resources: FakeResources) -> None:
    with pytest.raises(RuntimeError, match="outside `with`"):
        _ = UnitOfWork(resources).conn


@dataclass(frozen=True)
class Ping(Event):
    n: int


def test_the_bus_drains_events_raised_by_handlers_in_the_same_transaction(resources: FakeResources) -> None:
    def on_ping(event: Ping, uow: UnitOfWork) -> None:
        write(uow, f"ping {event.n}")
        if event.n < 3:
            uow.emit(Ping(event.n + 1))

    uow = UnitOfWork(resources, (MessageBus({Ping: [on_ping]}).drain,))
    with uow:
        uow.emit(Ping(1))
        uow.commit()
    assert logged(resources) == ["ping 1", "ping 2", "ping 3"]
    assert uow.events == []


def test_a_handler_that_opens_a_service_of_its_own_is_refused(resources: FakeResources) -> None:
    """The bug this guards against: a service called from a handler committing its outer write early."""
    def careless(event: Ping, uow: UnitOfWork) -> None:
        master.create_warehouse(UnitOfWork(resources), "W2", "second")

    uow = UnitOfWork(resources, (MessageBus({Ping: [careless]}).drain,))
    with pytest.raises(NestedUnitOfWork), uow:
        write(uow, "document")
        uow.emit(Ping(1))
        uow.commit()
    assert logged(resources) == []


SERVICES = [
    *(getattr(sales, n) for n in ("create_sales_order", "approve_sales_order", "cancel_sales_order",
                                  "ship_sales_order", "cancel_shipment", "invoice_sales_order",
                                  "cancel_customer_invoice", "record_customer_receipt")),
    *(getattr(purchasing, n) for n in ("create_requisition", "create_purchase_order", "approve_purchase_order",
                                       "cancel_purchase_order", "receive_goods", "register_supplier_invoice",
                                       "pay_supplier_invoice", "cancel_supplier_invoice")),
    master.create_item, master.create_customer, master.create_supplier, master.create_warehouse,
    returns.create_customer_return, returns.create_supplier_return, reversals.cancel_requisition,
    reversals.cancel_goods_receipt, reversals.cancel_customer_receipt, reversals.cancel_supplier_payment,
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.__name__)
def test_every_service_declares_a_dotted_write_permission(service: object) -> None:
    permission = access.permission_of(service)  # type: ignore[arg-type]
    assert permission in access.PERMISSIONS and permission.count(".") == 2 and not access.is_read(permission)


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s.__name__)
def test_a_viewer_is_refused_before_the_service_touches_anything(service: object, resources: FakeResources) -> None:
    """The only statements are the denied attempt's audit entry (which fails here: the fake has no audit
    tables, and that failure is logged, never the caller's problem)."""
    statements: list[str] = []
    event.listen(resources.engine, "before_cursor_execute", lambda c, cur, stmt, *a: statements.append(stmt))
    uow = UnitOfWork(resources, actor=Actor("vic", AccessRole.VIEWER))
    with pytest.raises(Forbidden, match="role 'viewer' may not do this"):
        service(uow, 1, 2, 3)  # type: ignore[operator]
    assert statements and all("audit_chain" in s for s in statements)
    assert logged(resources) == []


def test_a_role_without_the_permission_is_refused_and_one_with_it_passes_the_guard() -> None:
    clerk, buyer = Actor("sam", AccessRole.SALES_CLERK), Actor("bo", AccessRole.BUYER)
    access.require(clerk, access.permission_of(sales.create_sales_order))
    with pytest.raises(Forbidden, match="needs sales.order.approve"):
        access.require(clerk, access.permission_of(sales.approve_sales_order))
    with pytest.raises(Forbidden, match="needs purchase.order.create"):
        access.require(clerk, access.permission_of(purchasing.create_purchase_order))
    access.require(buyer, "purchase.order.create")
    access.require(Actor("old", AccessRole.PURCHASING), "purchasing:write")  # an old name: all it became
    with pytest.raises(Forbidden, match="purchasing:write"):
        access.require(buyer, "purchasing:write")  # a buyer may not approve
    with pytest.raises(KeyError):
        access.allowed(AccessRole.ADMIN, "no:such")


def test_only_an_admin_manages_tokens_and_the_cli_acts_as_a_named_admin() -> None:
    assert access.cli_actor().name.startswith("cli:")
    access.require(access.cli_actor(), "admin.tokens")
    for role in set(AccessRole) - {AccessRole.ADMIN}:
        with pytest.raises(Forbidden):
            access.require(Actor("x", role), "admin.tokens")
