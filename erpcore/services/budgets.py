"""Budgets: what a department may spend on an account in a month, set by finance and read by the purchase
controls and the budget-versus-actual report."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, insert, select, update

from erpcore.access import guarded
from erpcore.domain.money import require_cents
from erpcore.exceptions import ValidationFailed
from erpcore.models import Account, Budget, Department
from erpcore.services.documents import Doc
from erpcore.services.unit_of_work import UnitOfWork

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def check_period(period: str) -> str:
    """A month as YYYY-MM (422 otherwise)."""
    if not PERIOD.match(period or ""):
        raise ValidationFailed(f"period must be a month as YYYY-MM (got {period!r})")
    return period


def _department_id(conn: Connection, department: str) -> int:
    found = conn.execute(select(Department.id).where(Department.code == department)).scalar_one_or_none()
    if found is None:
        raise ValidationFailed(f"unknown department {department!r}")
    return int(found)


def _account_id(conn: Connection, account: str) -> int:
    found = conn.execute(select(Account.id).where(Account.code == account)).scalar_one_or_none()
    if found is None:
        raise ValidationFailed(f"unknown account {account!r}")
    return int(found)


@guarded("finance.budget.write")
def set_budget(uow: UnitOfWork, department: str, account: str, period: str, amount: Decimal) -> Doc:
    """Set (create or replace) the budget of a department (code) on an account (code) for a month."""
    check_period(period)
    require_cents("budget amount", amount)
    if amount < 0:
        raise ValidationFailed(f"budget amount must not be negative (got {amount})")
    with uow:
        conn = uow.conn
        dept, acct = _department_id(conn, department), _account_id(conn, account)
        values = {"amount": amount, "updated_at": dt.datetime.now(dt.UTC), "updated_by": uow.actor.name[:80]}
        key = (Budget.department_id == dept, Budget.account_id == acct, Budget.period == period)
        found = conn.execute(select(Budget.id).where(*key).with_for_update()).scalar_one_or_none()
        if found is None:
            found = conn.execute(insert(Budget).values(department_id=dept, account_id=acct, period=period, **values)
                                 .returning(Budget.id)).scalar_one()
        else:
            conn.execute(update(Budget).where(Budget.id == found).values(**values))
        row = list_budgets(conn, budget_id=int(found))[0]
        uow.commit()
        return Doc(int(found), row)


def list_budgets(conn: Connection, period: str | None = None, department: str | None = None,
                 budget_id: int | None = None) -> list[dict[str, Any]]:
    """Budgets with their department and account codes, by period, department and account."""
    stmt = (select(Budget.id, Department.code.label("department"), Account.code.label("account"), Budget.period,
                   Budget.amount, Budget.updated_at, Budget.updated_by)
            .join(Department, Department.id == Budget.department_id).join(Account, Account.id == Budget.account_id)
            .order_by(Budget.period, Department.code, Account.code))
    if period is not None:
        stmt = stmt.where(Budget.period == check_period(period))
    if department is not None:
        stmt = stmt.where(Department.code == department)
    if budget_id is not None:
        stmt = stmt.where(Budget.id == budget_id)
    return [dict(r) for r in conn.execute(stmt).mappings()]
