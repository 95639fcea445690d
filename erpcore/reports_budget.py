"""Budget versus actual: per department, account and month, the budget, what approved purchase orders have
committed and not yet been invoiced for, what the ledger shows as spent (the net of the department's supplier
invoices), and what remains. Purchases count against the spend account (`budget` control's `account`, the
inventory account by default); budgets on other accounts show their budget only."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from erpcore.domain.money import ZERO, to_cents
from erpcore.models import Budget
from erpcore.services import budgets, controls


def budget_report(conn: Connection, period: str | None = None, department: str | None = None) -> list[dict[str, Any]]:
    """One row per budget: budget, committed, actual, remaining and the share used (percent)."""
    control = controls.settings(conn)["budget"]
    spend_account = controls.spend_account_id(conn, control)
    exclude = controls.not_spend_accounts(conn)
    ids = {r.id: r for r in conn.execute(select(Budget.id, Budget.department_id, Budget.account_id))}
    rows = []
    for b in budgets.list_budgets(conn, period, department):
        ref = ids[b["id"]]
        counted = ref.account_id == spend_account
        committed = controls.committed(conn, ref.department_id, b["period"]) if counted else ZERO
        actual = controls.actual(conn, ref.department_id, b["period"], exclude) if counted else ZERO
        amount = to_cents(Decimal(b["amount"]))
        used = committed + actual
        rows.append({"department": b["department"], "account": b["account"], "period": b["period"],
                     "budget": amount, "committed": committed, "actual": actual, "remaining": amount - used,
                     "used_percent": (used * 100 / amount).quantize(Decimal("0.1")) if amount else None})
    return rows
