"""The ERP's integrity summary (document counts, trial-balance totals, stock value) for manifests.

Uses `erpcore.check.integrity_summary`; a smaller plain-SQL summary stands in on an older core.
Values are strings so manifests compare exactly across engines and JSON round trips.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, inspect, text

COUNTED = ("sales_order", "customer_invoice", "journal_entry", "journal_line", "stock_move")


def integrity_summary(engine: Engine | Connection) -> dict[str, str]:
    """Facts about the ERP data that a good restore must reproduce exactly."""
    try:
        from erpcore.check import integrity_summary as core_summary
    except ImportError:
        return _sql_summary(engine)
    return flatten(core_summary(engine))


def flatten(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}{key}."))
        return out
    if hasattr(data, "__dataclass_fields__"):
        return flatten({k: getattr(data, k) for k in data.__dataclass_fields__}, prefix)
    return {prefix.rstrip("."): _text(data)}


def _text(value: Any) -> str:
    if isinstance(value, Decimal | float):
        return _money(value)
    return str(value)


def _money(value: Any) -> str:
    return str(Decimal(str(value)).quantize(Decimal("0.01")))


def _sql_summary(target: Engine | Connection) -> dict[str, str]:
    if isinstance(target, Engine):
        with target.connect() as conn:
            return _sql_summary(conn)
    conn = target
    tables = set(inspect(conn).get_table_names())
    summary: dict[str, str] = {}
    for table in COUNTED:
        if table in tables:
            summary[f"count.{table}"] = str(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
    if "journal_line" in tables:
        debit, credit = conn.execute(
            text("SELECT coalesce(sum(debit), 0), coalesce(sum(credit), 0) FROM journal_line")
        ).one()
        summary["trial_balance.debit"] = _money(debit)
        summary["trial_balance.credit"] = _money(credit)
    if "stock_balance" in tables:
        value = conn.execute(text("SELECT coalesce(sum(value_amount), 0) FROM stock_balance")).scalar_one()
        summary["stock.value"] = _money(value)
    return summary
