"""The business invariants of the ERP, checked set-based: one SQL query per invariant.

`run_check` is the function `erpops check`, the backup drill, the archive job and the failover
drill all call. Each query returns the violating rows (none when the invariant holds); money is
compared at the cent and quantities at 1e-4, because SQLite hands NUMERIC back through floats.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, text

MONEY_EPS = "0.004"
QTY_EPS = "0.00004"
EXAMPLES = 5


@dataclass(frozen=True)
class Invariant:
    name: str
    description: str
    sql: str


@dataclass(frozen=True)
class Violation:
    invariant: str
    message: str
    count: int
    examples: list[dict[str, Any]]


@dataclass
class CheckReport:
    checked: list[str] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations


def _ledger_cte(role: str) -> str:
    return (f"SELECT jl.customer_id, jl.supplier_id, jl.debit - jl.credit AS amount FROM journal_line jl "
            f"JOIN account a ON a.id = jl.account_id WHERE a.role = '{role}'")


def _posted_without_entry(table: str, where: str, event: str = "post") -> str:
    return (f"SELECT d.id, d.number FROM {table} d WHERE {where} AND NOT EXISTS (SELECT 1 FROM journal_entry je "
            f"WHERE je.source_type = '{table}' AND je.source_id = d.id AND je.event = '{event}')")


def _derived(line_table: str, column: str, link_sql: str) -> str:
    return (f"SELECT l.id, l.{column} AS recorded, COALESCE(x.total, 0) AS linked FROM {line_table} l "
            f"LEFT JOIN ({link_sql}) x ON x.line_id = l.id WHERE ABS(l.{column} - COALESCE(x.total, 0)) > {QTY_EPS}")


def _subledger(role: str, party: str, invoices: str, open_where: str, sign: str) -> str:
    """Per party: open invoices vs the control account's lines (party 0 = a line with no party)."""
    ledger = (f"SELECT COALESCE(jl.{party}, 0) AS party, {sign}SUM(jl.debit - jl.credit) AS balance "
              f"FROM journal_line jl JOIN account a ON a.id = jl.account_id WHERE a.role = '{role}' "
              f"GROUP BY COALESCE(jl.{party}, 0)")
    docs = (f"SELECT {party} AS party, SUM(total_amount - amount_paid) AS open_amount FROM {invoices} "
            f"WHERE {open_where} GROUP BY {party}")
    return (f"SELECT k.party AS {party}, COALESCE(d.open_amount, 0) AS invoices, COALESCE(g.balance, 0) AS ledger "
            f"FROM (SELECT party FROM ({ledger}) l UNION SELECT party FROM ({docs}) o) k "
            f"LEFT JOIN ({ledger}) g ON g.party = k.party LEFT JOIN ({docs}) d ON d.party = k.party "
            f"WHERE ABS(COALESCE(d.open_amount, 0) - COALESCE(g.balance, 0)) > {MONEY_EPS}")


INVARIANTS: tuple[Invariant, ...] = (
    Invariant("journal_entries_balance", "every journal entry's debits equal its credits",
              "SELECT je.id, je.number, SUM(jl.debit) AS debit, SUM(jl.credit) AS credit FROM journal_entry je "
              "JOIN journal_line jl ON jl.journal_entry_id = je.id GROUP BY je.id, je.number "
              f"HAVING ABS(SUM(jl.debit) - SUM(jl.credit)) > {MONEY_EPS}"),
    Invariant("trial_balance_zero", "the trial balance sums to zero",
              "SELECT SUM(debit) AS debit, SUM(credit) AS credit FROM journal_line "
              f"HAVING ABS(COALESCE(SUM(debit), 0) - COALESCE(SUM(credit), 0)) > {MONEY_EPS}"),
    Invariant("stock_ledger_matches_balances", "stock moves sum to each stock balance (quantity and value)",
              "SELECT b.item_id, b.warehouse_id, b.on_hand, COALESCE(m.qty, 0) AS moved_qty, b.value_amount, "
              "COALESCE(m.val, 0) AS moved_value FROM stock_balance b LEFT JOIN (SELECT item_id, warehouse_id, "
              "SUM(quantity) AS qty, SUM(value_amount) AS val FROM stock_move GROUP BY item_id, warehouse_id) m "
              "ON m.item_id = b.item_id AND m.warehouse_id = b.warehouse_id "
              f"WHERE ABS(b.on_hand - COALESCE(m.qty, 0)) > {QTY_EPS} "
              f"OR ABS(b.value_amount - COALESCE(m.val, 0)) > {MONEY_EPS} "
              "UNION ALL SELECT m.item_id, m.warehouse_id, NULL, SUM(m.quantity), NULL, SUM(m.value_amount) "
              "FROM stock_move m WHERE NOT EXISTS (SELECT 1 FROM stock_balance b WHERE b.item_id = m.item_id "
              "AND b.warehouse_id = m.warehouse_id) GROUP BY m.item_id, m.warehouse_id"),
    Invariant("no_negative_stock", "no stock balance is negative in quantity or value",
              "SELECT item_id, warehouse_id, on_hand, value_amount FROM stock_balance "
              f"WHERE on_hand < -{QTY_EPS} OR value_amount < -{MONEY_EPS}"),
    Invariant("reserved_within_on_hand", "reserved stock is between zero and on hand",
              f"SELECT item_id, warehouse_id, on_hand, reserved FROM stock_balance WHERE reserved < -{QTY_EPS} "
              f"OR reserved - on_hand > {QTY_EPS}"),
    Invariant("reservations_match_balances", "each balance's reserved quantity equals its open reservations",
              "SELECT b.item_id, b.warehouse_id, b.reserved, COALESCE(r.qty, 0) AS reservations FROM stock_balance b "
              "LEFT JOIN (SELECT item_id, warehouse_id, SUM(quantity) AS qty FROM stock_reservation "
              "GROUP BY item_id, warehouse_id) r ON r.item_id = b.item_id AND r.warehouse_id = b.warehouse_id "
              f"WHERE ABS(b.reserved - COALESCE(r.qty, 0)) > {QTY_EPS}"),
    Invariant("shipments_posted", "every shipment has its journal entry",
              _posted_without_entry("shipment", "1 = 1")),
    Invariant("goods_receipts_posted", "every goods receipt has its journal entry",
              _posted_without_entry("goods_receipt", "1 = 1")),
    Invariant("customer_invoices_posted", "every customer invoice has its journal entry",
              _posted_without_entry("customer_invoice", "1 = 1")),
    Invariant("customer_receipts_posted", "every customer receipt has its journal entry",
              _posted_without_entry("customer_receipt", "1 = 1")),
    Invariant("supplier_invoices_posted", "every matched supplier invoice has its journal entry",
              _posted_without_entry("supplier_invoice", "d.matched_at IS NOT NULL")),
    Invariant("supplier_payments_posted", "every supplier payment has its journal entry",
              _posted_without_entry("supplier_payment", "1 = 1")),
    Invariant("cancellations_reversed", "every cancelled posted document has its reversal entry",
              " UNION ALL ".join(
                  f"SELECT '{t}' AS document, d.id, d.number FROM {t} d WHERE d.status = 'cancelled' "
                  f"{extra} AND NOT EXISTS (SELECT 1 FROM journal_entry je WHERE je.source_type = '{t}' "
                  f"AND je.source_id = d.id AND je.event = 'cancel')"
                  for t, extra in (("shipment", ""), ("customer_invoice", ""),
                                   ("supplier_invoice", "AND d.matched_at IS NOT NULL")))),
    Invariant("ar_subledger_matches_control", "open customer invoices equal the AR account, per customer",
              _subledger("accounts_receivable", "customer_id", "customer_invoice", "status <> 'cancelled'", "")),
    Invariant("ap_subledger_matches_control", "open matched supplier invoices equal the AP account, per supplier",
              _subledger("accounts_payable", "supplier_id", "supplier_invoice", "status IN ('matched', 'paid')", "-")),
    Invariant("inventory_account_matches_stock", "the inventory account equals the value of stock on hand",
              f"SELECT g.balance AS ledger, s.value AS stock FROM (SELECT COALESCE(SUM(amount), 0) AS balance FROM "
              f"({_ledger_cte('inventory')}) x) g, (SELECT COALESCE(SUM(value_amount), 0) AS value FROM stock_balance) s "
              f"WHERE ABS(g.balance - s.value) > {MONEY_EPS}"),
    Invariant("shipped_quantities_derived", "sales order lines' shipped quantity equals their posted shipment lines",
              _derived("sales_order_line", "qty_shipped",
                       "SELECT sl.sales_order_line_id AS line_id, SUM(sl.quantity) AS total FROM shipment_line sl "
                       "JOIN shipment s ON s.id = sl.shipment_id WHERE s.status = 'posted' "
                       "GROUP BY sl.sales_order_line_id")),
    Invariant("invoiced_quantities_derived", "sales order lines' invoiced quantity equals their invoice lines",
              _derived("sales_order_line", "qty_invoiced",
                       "SELECT il.sales_order_line_id AS line_id, SUM(il.quantity) AS total FROM customer_invoice_line il "
                       "JOIN customer_invoice i ON i.id = il.customer_invoice_id WHERE i.status <> 'cancelled' "
                       "GROUP BY il.sales_order_line_id")),
    Invariant("received_quantities_derived", "purchase order lines' received quantity equals their receipt lines",
              _derived("purchase_order_line", "qty_received",
                       "SELECT gl.purchase_order_line_id AS line_id, SUM(gl.quantity) AS total FROM goods_receipt_line gl "
                       "JOIN goods_receipt g ON g.id = gl.goods_receipt_id WHERE g.status = 'posted' "
                       "GROUP BY gl.purchase_order_line_id")),
    Invariant("billed_quantities_derived", "purchase order lines' invoiced quantity equals matched invoice lines",
              _derived("purchase_order_line", "qty_invoiced",
                       "SELECT il.purchase_order_line_id AS line_id, SUM(il.quantity) AS total FROM supplier_invoice_line il "
                       "JOIN supplier_invoice i ON i.id = il.supplier_invoice_id WHERE i.status IN ('matched', 'paid') "
                       "GROUP BY il.purchase_order_line_id")),
    Invariant("customer_payments_derived", "each customer invoice's paid amount equals its receipts",
              "SELECT i.id, i.number, i.amount_paid, COALESCE(r.total, 0) AS receipts FROM customer_invoice i "
              "LEFT JOIN (SELECT customer_invoice_id, SUM(amount) AS total FROM customer_receipt WHERE status = 'posted' "
              "GROUP BY customer_invoice_id) r ON r.customer_invoice_id = i.id "
              f"WHERE ABS(i.amount_paid - COALESCE(r.total, 0)) > {MONEY_EPS}"),
    Invariant("supplier_payments_derived", "each supplier invoice's paid amount equals its payments",
              "SELECT i.id, i.number, i.amount_paid, COALESCE(p.total, 0) AS payments FROM supplier_invoice i "
              "LEFT JOIN (SELECT supplier_invoice_id, SUM(amount) AS total FROM supplier_payment WHERE status = 'posted' "
              "GROUP BY supplier_invoice_id) p ON p.supplier_invoice_id = i.id "
              f"WHERE ABS(i.amount_paid - COALESCE(p.total, 0)) > {MONEY_EPS}"),
)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.0001"))
    return value


def _check_one(conn: Connection, inv: Invariant) -> Violation | None:
    result = conn.execute(text(inv.sql))
    keys = list(result.keys())
    rows = result.fetchall()
    if not rows:
        return None
    examples = [{k: _plain(v) for k, v in zip(keys, row, strict=True)} for row in rows[:EXAMPLES]]
    shown = ", ".join(f"{k}={v}" for k, v in examples[0].items())
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    return Violation(inv.name, f"{inv.description}: violated by {shown}{more}", len(rows), examples)


def run_check(target: Engine | Connection, only: list[str] | None = None) -> CheckReport:
    """Check every invariant (or those named in `only`) and return what holds and what does not."""
    unknown = set(only or []) - {i.name for i in INVARIANTS}
    if unknown:
        from erpcore.exceptions import ValidationFailed

        raise ValidationFailed(f"unknown invariant(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    report = CheckReport()
    chosen = [i for i in INVARIANTS if only is None or i.name in only]
    if isinstance(target, Engine):
        with target.connect() as conn:
            _run_all(conn, chosen, report)
    else:
        _run_all(target, chosen, report)
    report.duration_s = time.perf_counter() - started
    return report


def _run_all(conn: Connection, chosen: list[Invariant], report: CheckReport) -> None:
    for inv in chosen:
        report.checked.append(inv.name)
        violation = _check_one(conn, inv)
        if violation is not None:
            report.violations.append(violation)


SUMMARY_COUNTS = ("sales_order", "shipment", "customer_invoice", "customer_receipt", "purchase_order",
                  "goods_receipt", "supplier_invoice", "supplier_payment", "journal_entry", "stock_move")


def integrity_summary(target: Engine | Connection) -> dict[str, str | int]:
    """The ERP's fingerprint at a moment: document counts, ledger totals, stock value, open AR and AP."""
    if isinstance(target, Engine):
        with target.connect() as conn:
            return _summary(conn)
    return _summary(target)


def _money(value: Any) -> str:
    return str(Decimal(str(value or 0)).quantize(Decimal("0.01")))


def _summary(conn: Connection) -> dict[str, str | int]:
    out: dict[str, str | int] = {}
    for table in SUMMARY_COUNTS:
        out[f"count.{table}"] = int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())
    debit, credit = conn.execute(text("SELECT SUM(debit), SUM(credit) FROM journal_line")).one()
    out["ledger.debit_total"] = _money(debit)
    out["ledger.credit_total"] = _money(credit)
    qty, value = conn.execute(text("SELECT SUM(on_hand), SUM(value_amount) FROM stock_balance")).one()
    out["stock.quantity"] = str(Decimal(str(qty or 0)).quantize(Decimal("0.0001")))
    out["stock.value"] = _money(value)
    out["ar.open"] = _money(conn.execute(text(
        "SELECT SUM(total_amount - amount_paid) FROM customer_invoice WHERE status <> 'cancelled'")).scalar_one())
    out["ap.open"] = _money(conn.execute(text(
        "SELECT SUM(total_amount - amount_paid) FROM supplier_invoice WHERE status IN ('matched', 'paid')")).scalar_one())
    return out
