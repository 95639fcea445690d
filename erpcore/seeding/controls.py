"""The seed's controls: departments (when none exist), the default rulebook, a budget per department and month
of the history and the next one, and the approval records of the seeded purchase orders the rulebook's
approval rules match (approved by a seeded buyer and controller, never by their creator)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Connection, Engine, func, insert, select

from erpcore.domain import rules
from erpcore.domain.accounts import Role
from erpcore.models import Account, Approval, ApprovalRequest, Budget, Department, PurchaseOrder, Supplier
from erpcore.seeding import payroll
from erpcore.services import rulebook

DEPARTMENTS = payroll.DEPARTMENTS  # one set of departments, whichever seeder writes them first
MONTHLY_BUDGET = Decimal("500000.00")
SEED_ACTOR = "seed"
APPROVER = {"purchasing": "seed-buyer", "finance": "seed-controller", "admin": "seed-admin", "sales": "seed-sales"}


def months(start: dt.date, last: dt.date) -> list[str]:
    """YYYY-MM of every month from `start` to the month after `last`."""
    out, (y, m) = [], (start.year, start.month)
    end = (last.year + last.month // 12, last.month % 12 + 1)
    while (y, m) <= end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = y + m // 12, m % 12 + 1
    return out


def seed_controls(engine: Engine, start: dt.date, last: dt.date) -> dict[str, int]:
    """Write the seed's controls in one transaction; returns rows written per table."""
    now = dt.datetime.combine(last, dt.time(6, 0), dt.UTC)
    with engine.begin() as conn:
        if conn.execute(select(func.count()).select_from(Department)).scalar_one() == 0:
            conn.execute(insert(Department), [{"code": c, "name": n, "cost_centre": cc} for c, n, cc in DEPARTMENTS])
        book = rulebook.read_rulebook(rulebook.DEFAULT_RULEBOOK)
        written = rulebook.write_rulebook(conn, book, SEED_ACTOR)
        account = conn.execute(select(Account.id).where(Account.role == Role.INVENTORY.value)).scalar_one()
        departments = conn.execute(select(Department.id)).scalars().all()
        budget_rows = [{"department_id": d, "account_id": account, "period": p, "amount": MONTHLY_BUDGET,
                        "updated_at": now, "updated_by": SEED_ACTOR} for d in departments for p in months(start, last)]
        conn.execute(insert(Budget), budget_rows)
        approvals = _seed_approvals(conn, [
            rules.Rule(r.code, r.document_type, r.conditions, rules.parse_steps(r.steps, rulebook.ROLES), r.priority)
            for r in rulebook.parse_rulebook(book)[1] if r.document_type == "purchase_order"])
    return {"department": len(departments), "budget": len(budget_rows), "approval_rule": len(written["approval_rules"]),
            "approval": approvals}


def _seed_approvals(conn: Connection, po_rules: list[rules.Rule]) -> int:
    """Approval requests and decisions for the seeded purchase orders past approval that the rules match."""
    orders = conn.execute(select(PurchaseOrder.id, PurchaseOrder.net_amount, PurchaseOrder.approved_at,
                                 PurchaseOrder.created_at, Supplier.code)
                          .join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
                          .where(PurchaseOrder.approved_at.is_not(None))).all()
    count = 0
    for po in orders:
        codes, steps = rules.required_approvals(po_rules, rules.Facts("purchase_order", Decimal(po.net_amount),
                                                                      supplier=po.code))
        if not codes:
            continue
        request_id = conn.execute(insert(ApprovalRequest).values(
            document_type="purchase_order", document_id=po.id, rules=codes, steps=[s.as_data() for s in steps],
            status="approved", submitted_by=SEED_ACTOR, decided_at=po.approved_at, created_at=po.created_at,
        ).returning(ApprovalRequest.id)).scalar_one()
        decisions = []
        for n, step in enumerate(steps, 1):
            for k in range(step.required):
                role = step.roles[k % len(step.roles)]
                decisions.append({"request_id": request_id, "step_no": n, "actor": f"{APPROVER[role]}-{n}-{k}",
                                  "role": role, "decision": "approve", "comment": "", "created_at": po.approved_at})
        conn.execute(insert(Approval), decisions)
        count += len(decisions)
    return count
