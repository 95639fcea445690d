"""The seeded controls: budgets, the default rulebook and approvals of the seeded orders it matches; and a clean
seed gets no false block when the business goes on (orders at list price, purchases within budget)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from erpcore.access import AccessRole, Actor
from erpcore.check import run_check
from erpcore.models import (
    Approval,
    ApprovalRequest,
    ApprovalRule,
    Budget,
    Customer,
    Department,
    Item,
    RuleBlock,
    StockBalance,
)
from erpcore.seeding.controls import DEPARTMENTS
from erpcore.services import purchasing, sales
from erpcore.services.bootstrap import bootstrap
from erpcore.services.purchasing import PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.integration.seed.conftest import Seeded

SAM = Actor("sam", AccessRole.SALES)
ALICE = Actor("alice", AccessRole.PURCHASING)


def _count(seeded: Seeded, model: object) -> int:
    with seeded.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())  # type: ignore[arg-type]


def test_the_seed_carries_budgets_rules_and_approvals(seeded: Seeded) -> None:
    assert _count(seeded, Department) == len(DEPARTMENTS) and _count(seeded, ApprovalRule) == 4
    assert _count(seeded, Budget) == seeded.summary.rows["budget"] >= 3 * 4
    assert _count(seeded, ApprovalRequest) >= 1 and _count(seeded, Approval) == seeded.summary.rows["approval"]
    with seeded.engine.connect() as conn:
        creators = set(conn.execute(select(Approval.actor)).scalars())
    assert "seed" not in creators  # the seed's creator never approves


def test_a_clean_seed_gets_zero_false_blocks(seeded: Seeded) -> None:
    erp = bootstrap(seeded.engine)
    today = dt.date.today()
    with seeded.engine.connect() as conn:
        customers = conn.execute(select(Customer.id).order_by(Customer.id).limit(8)).scalars().all()
        stocked = conn.execute(select(Item.id).join(StockBalance, StockBalance.item_id == Item.id)
                               .where(StockBalance.on_hand - StockBalance.reserved >= 5).order_by(Item.id).limit(8)
                               ).scalars().all()
        buys = conn.execute(select(Item.id, Item.default_supplier_id).where(Item.default_supplier_id.is_not(None))
                            .order_by(Item.id).limit(6)).all()
        ops = conn.execute(select(Department.id).where(Department.code == "PUR")).scalar_one()
    assert len(customers) == 8 and len(stocked) >= 4
    statuses = []
    for customer, item in zip(customers, stocked, strict=False):
        order = sales.create_sales_order(erp.uow(SAM), customer, [OrderLineInput(item, Decimal(1))], order_date=today)
        statuses.append(sales.approve_sales_order(erp.uow(SAM), order.id).status)
    for item, supplier in buys:
        assert supplier is not None
        po = purchasing.create_purchase_order(erp.uow(ALICE), supplier, [PurchaseLineInput(item, Decimal(5))],
                                              order_date=today, department_id=ops)
        statuses.append(purchasing.approve_purchase_order(erp.uow(ALICE), po.id).status)
    assert set(statuses) == {"approved"}
    assert _count(seeded, RuleBlock) == 0
    report = run_check(seeded.engine)
    assert report.ok, [v.message for v in report.violations]
