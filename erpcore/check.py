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

from erpcore.domain.audit import REDACTED, SENSITIVE

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


def _subledger(role: str, party: str, invoices: str, open_where: str, sign: str, notes: str = "") -> str:
    """Per party: open invoices, less what the posted credit or debit notes in `notes` settled of them (the
    rest was refunded), vs the control account's lines (party 0 = a line with no party)."""
    ledger = (f"SELECT COALESCE(jl.{party}, 0) AS party, {sign}SUM(jl.debit - jl.credit) AS balance "
              f"FROM journal_line jl JOIN account a ON a.id = jl.account_id WHERE a.role = '{role}' "
              f"GROUP BY COALESCE(jl.{party}, 0)")
    less = (f" UNION ALL SELECT {party}, refund_amount - total_amount FROM {notes} WHERE status = 'posted' "
            "AND total_amount <> 0" if notes else "")
    docs = (f"SELECT party, SUM(amount) AS open_amount FROM (SELECT {party} AS party, total_amount - amount_paid "
            f"AS amount FROM {invoices} WHERE {open_where}{less}) n GROUP BY party")
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
              "LEFT JOIN (SELECT item_id, warehouse_id, SUM(quantity) AS qty FROM (SELECT item_id, warehouse_id, "
              "quantity FROM stock_reservation UNION ALL SELECT l.item_id, w.warehouse_id, l.qty_reserved "
              "FROM work_order_line l JOIN work_order w ON w.id = l.work_order_id) x "
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
                                   ("supplier_invoice", "AND d.matched_at IS NOT NULL"), ("goods_receipt", ""),
                                   ("customer_receipt", ""), ("supplier_payment", "")))),
    Invariant("ar_subledger_matches_control", "open customer invoices less credit notes equal the AR account, per customer",
              _subledger("accounts_receivable", "customer_id", "customer_invoice", "status <> 'cancelled'", "",
                         "customer_return")),
    Invariant("ap_subledger_matches_control", "open matched supplier invoices less debit notes equal the AP account, per supplier",
              _subledger("accounts_payable", "supplier_id", "supplier_invoice", "status IN ('matched', 'paid')", "-",
                         "supplier_return")),
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
    Invariant("received_quantities_derived", "purchase order lines' received quantity equals their receipt lines less unbilled returns",
              _derived("purchase_order_line", "qty_received",
                       "SELECT line_id, SUM(qty) AS total FROM (SELECT gl.purchase_order_line_id AS line_id, "
                       "gl.quantity AS qty FROM goods_receipt_line gl JOIN goods_receipt g ON g.id = gl.goods_receipt_id "
                       "WHERE g.status = 'posted' UNION ALL SELECT rl.purchase_order_line_id, -rl.qty_unbilled FROM "
                       "supplier_return_line rl JOIN supplier_return r ON r.id = rl.supplier_return_id "
                       "WHERE r.status = 'posted') q GROUP BY line_id")),
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

# --- invariants that would have caught the money leaks of issue 11 ---------------------------------------

_RECEIVED_VALUE = ("SELECT line_id, SUM(value) AS value FROM (SELECT gl.purchase_order_line_id AS line_id, "
                   "gl.value_amount AS value FROM goods_receipt_line gl JOIN goods_receipt g ON g.id = gl.goods_receipt_id "
                   "WHERE g.status = 'posted' UNION ALL SELECT rl.purchase_order_line_id, -rl.grni_amount FROM "
                   "supplier_return_line rl JOIN supplier_return r ON r.id = rl.supplier_return_id "
                   "WHERE r.status = 'posted') v GROUP BY line_id")
_GRNI_CLEARED = ("SELECT il.purchase_order_line_id AS line_id, SUM(COALESCE(il.grni_amount, 0)) AS cleared "
                 "FROM supplier_invoice_line il JOIN supplier_invoice i ON i.id = il.supplier_invoice_id "
                 "WHERE i.status IN ('matched', 'paid') GROUP BY il.purchase_order_line_id")
_GRNI_PER_LINE = (f"SELECT l.id, l.quantity, l.qty_received, l.qty_invoiced, COALESCE(r.value, 0) - COALESCE(c.cleared, 0) "
                  f"AS grni FROM purchase_order_line l LEFT JOIN ({_RECEIVED_VALUE}) r ON r.line_id = l.id "
                  f"LEFT JOIN ({_GRNI_CLEARED}) c ON c.line_id = l.id")


def _cents(table: str, *columns: str) -> str:
    wrong = " OR ".join(f"ABS({c} * 100 - ROUND({c} * 100)) > 0.0001" for c in columns)
    return f"SELECT '{table}' AS document, id, {', '.join(columns)} FROM {table} WHERE {wrong}"


def _dated_after(what: str, sql: str) -> str:
    return f"SELECT '{what}' AS rule, x.* FROM ({sql}) x"


_SO_STATUS = """CASE WHEN t.shipped = 0 THEN 'approved' WHEN t.shipped < t.ordered THEN 'partly_shipped'
    WHEN t.invoiced < t.ordered THEN 'shipped' WHEN t.unpaid = 0 THEN 'closed' ELSE 'invoiced' END"""
_PO_STATUS = """CASE WHEN t.received = 0 THEN 'approved' WHEN t.received < t.ordered THEN 'partly_received'
    WHEN t.invoiced >= t.received AND t.unpaid = 0 THEN 'closed' ELSE 'received' END"""

LEAK_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("billed_within_received",
              "per PO line, matched supplier invoices bill no more than was received (within the quantity tolerance)",
              "SELECT l.id, l.qty_received, b.billed FROM purchase_order_line l JOIN (SELECT il.purchase_order_line_id "
              "AS line_id, SUM(il.quantity) AS billed FROM supplier_invoice_line il JOIN supplier_invoice i "
              "ON i.id = il.supplier_invoice_id WHERE i.status IN ('matched', 'paid') GROUP BY il.purchase_order_line_id"
              f") b ON b.line_id = l.id WHERE b.billed - l.qty_received * (1 + CAST(:qty_tolerance AS NUMERIC)) > {QTY_EPS}"),
    Invariant("grni_clears_per_line",
              "a PO line fully received and fully billed has no GRNI left; no line's GRNI is negative",
              f"SELECT * FROM ({_GRNI_PER_LINE}) g WHERE (g.qty_received >= g.quantity AND g.qty_invoiced >= "
              f"g.qty_received AND ABS(g.grni) > {MONEY_EPS}) OR g.grni < -{MONEY_EPS}"),
    Invariant("grni_account_matches_lines", "the GRNI account equals received value not yet billed, over all PO lines",
              f"SELECT g.balance AS ledger, s.grni AS lines FROM (SELECT -COALESCE(SUM(amount), 0) AS balance FROM "
              f"({_ledger_cte('goods_received_not_invoiced')}) x) g, (SELECT COALESCE(SUM(grni), 0) AS grni FROM ({_GRNI_PER_LINE}) y) s "
              f"WHERE ABS(g.balance - s.grni) > {MONEY_EPS}"),
    Invariant("reservations_within_lines",
              "per sales order line, reserved + shipped is at most ordered; cancelled and closed orders reserve nothing",
              "SELECT l.id, o.status, l.quantity, l.qty_shipped, r.quantity AS reserved FROM sales_order_line l "
              "JOIN sales_order o ON o.id = l.sales_order_id JOIN stock_reservation r ON r.sales_order_line_id = l.id "
              f"WHERE r.quantity + l.qty_shipped - l.quantity > {QTY_EPS} "
              f"OR (o.status IN ('cancelled', 'closed') AND r.quantity > {QTY_EPS})"),
    Invariant("cash_in_cents", "cash amounts (receipts, payments, invoice totals) have at most two decimals",
              " UNION ALL ".join((
                  _cents("customer_receipt", "amount", "amount"),
                  _cents("supplier_payment", "amount", "amount"),
                  _cents("customer_invoice", "total_amount", "amount_paid"),
                  _cents("supplier_invoice", "total_amount", "amount_paid")))),
    Invariant("documents_dated_after_their_source",
              "every document is dated on or after its source, every reversal on or after its original",
              " UNION ALL ".join((
                  _dated_after("reversal", "SELECT r.id, r.entry_date AS dated, o.entry_date AS source_date FROM "
                               "journal_entry r JOIN journal_entry o ON o.id = r.reversal_of_id "
                               "WHERE r.entry_date < o.entry_date"),
                  _dated_after("shipment", "SELECT s.id, s.ship_date, o.order_date FROM shipment s JOIN sales_order o "
                               "ON o.id = s.sales_order_id WHERE s.ship_date < o.order_date"),
                  _dated_after("customer_invoice", "SELECT i.id, i.invoice_date, MAX(s.ship_date) FROM customer_invoice i "
                               "JOIN customer_invoice_line il ON il.customer_invoice_id = i.id JOIN shipment_line sl "
                               "ON sl.id = il.shipment_line_id JOIN shipment s ON s.id = sl.shipment_id "
                               "GROUP BY i.id, i.invoice_date HAVING i.invoice_date < MAX(s.ship_date)"),
                  _dated_after("customer_receipt", "SELECT r.id, r.receipt_date, i.invoice_date FROM customer_receipt r "
                               "JOIN customer_invoice i ON i.id = r.customer_invoice_id "
                               "WHERE r.receipt_date < i.invoice_date"),
                  _dated_after("goods_receipt", "SELECT g.id, g.receipt_date, p.order_date FROM goods_receipt g "
                               "JOIN purchase_order p ON p.id = g.purchase_order_id WHERE g.receipt_date < p.order_date"),
                  _dated_after("supplier_payment", "SELECT p.id, p.payment_date, i.invoice_date FROM supplier_payment p "
                               "JOIN supplier_invoice i ON i.id = p.supplier_invoice_id "
                               "WHERE p.payment_date < i.invoice_date")))),
    Invariant("statuses_derived", "every order's status is the one its lines and invoices derive",
              "SELECT 'sales_order' AS document, t.id, t.status, " + _SO_STATUS + " AS derived FROM ("
              "SELECT o.id, o.status, SUM(l.quantity) AS ordered, SUM(l.qty_shipped) AS shipped, "
              "SUM(l.qty_invoiced) AS invoiced, (SELECT COUNT(*) FROM customer_invoice i WHERE i.sales_order_id = o.id "
              "AND i.status = 'posted') AS unpaid FROM sales_order o JOIN sales_order_line l ON l.sales_order_id = o.id "
              "WHERE o.status NOT IN ('draft', 'pending_approval', 'cancelled') GROUP BY o.id, o.status) t "
              "WHERE t.status <> " + _SO_STATUS + " UNION ALL "
              "SELECT 'purchase_order', t.id, t.status, " + _PO_STATUS + " FROM ("
              "SELECT p.id, p.status, SUM(l.quantity) AS ordered, SUM(l.qty_received) AS received, "
              "SUM(l.qty_invoiced) AS invoiced, (SELECT COUNT(*) FROM supplier_invoice i WHERE i.purchase_order_id = p.id "
              "AND i.status IN ('on_hold', 'matched')) AS unpaid FROM purchase_order p JOIN purchase_order_line l "
              "ON l.purchase_order_id = p.id WHERE p.status NOT IN ('draft', 'pending_approval', 'cancelled') "
              "GROUP BY p.id, p.status) t "
              "WHERE t.status <> " + _PO_STATUS),
)
PERIOD_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("no_posting_in_a_closed_period", "no journal entry was written into a period after it was closed",
              "SELECT je.id, je.number, je.entry_date, p.year, p.month FROM journal_entry je JOIN fiscal_period p "
              "ON je.entry_date BETWEEN p.start_date AND p.end_date WHERE p.status = 'closed' "
              "AND je.created_at > p.closed_at "
              # an archive carry-forward restates postings the period already had (they moved to the archive)
              "AND je.source_type <> 'archive_carry_forward'"),
)
# --- plan-to-produce: a work order's WIP is issued components - finished goods received - variance at close ---
_WO_LEDGER = ("SELECT je.source_id AS work_order_id, SUM(jl.debit - jl.credit) AS wip FROM journal_entry je "
              "JOIN journal_line jl ON jl.journal_entry_id = je.id JOIN account a ON a.id = jl.account_id "
              "WHERE a.role = 'work_in_progress' AND je.source_type = 'work_order' GROUP BY je.source_id")
PRODUCTION_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("wip_matches_open_work_orders",
              "the WIP account equals the cost of open work orders (components issued - finished goods received)",
              f"SELECT g.balance AS ledger, w.open_cost FROM (SELECT COALESCE(SUM(amount), 0) AS balance FROM "
              f"({_ledger_cte('work_in_progress')}) x) g, (SELECT COALESCE(SUM(issued_cost - received_cost), 0) "
              "AS open_cost FROM work_order WHERE status NOT IN ('closed', 'cancelled')) w "
              f"WHERE ABS(g.balance - w.open_cost) > {MONEY_EPS}"),
    Invariant("work_orders_cost_through",
              "a closed work order's finished goods cost + variance equals its issued components, every work "
              "order's issued cost equals its lines' and its WIP lines in the ledger",
              "SELECT w.id, w.number, w.status, w.issued_cost, w.received_cost, w.variance_amount, "
              "COALESCE(l.issued, 0) AS lines_issued, COALESCE(g.wip, 0) AS ledger_wip FROM work_order w "
              "LEFT JOIN (SELECT work_order_id, SUM(issued_cost) AS issued FROM work_order_line "
              f"GROUP BY work_order_id) l ON l.work_order_id = w.id LEFT JOIN ({_WO_LEDGER}) g "
              "ON g.work_order_id = w.id "
              f"WHERE (w.status = 'closed' AND ABS(w.received_cost + w.variance_amount - w.issued_cost) > {MONEY_EPS}) "
              f"OR ABS(w.issued_cost - COALESCE(l.issued, 0)) > {MONEY_EPS} "
              f"OR ABS(w.issued_cost - w.received_cost - w.variance_amount - COALESCE(g.wip, 0)) > {MONEY_EPS}"),
)
_PAYABLE = "SELECT id FROM account WHERE role = 'payroll_payable'"
PAYROLL_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("payroll_runs_posted", "every payroll run has its journal entry, and every paid run its payment",
              "SELECT r.id, r.period, 'post' AS missing FROM payroll_run r WHERE NOT EXISTS (SELECT 1 FROM "
              "journal_entry je WHERE je.source_type = 'payroll_run' AND je.source_id = r.id AND je.event = 'post') "
              "UNION ALL SELECT r.id, r.period, 'pay' FROM payroll_run r WHERE r.status = 'paid' AND NOT EXISTS "
              "(SELECT 1 FROM journal_entry je WHERE je.source_type = 'payroll_run' AND je.source_id = r.id "
              "AND je.event = 'pay')"),
    Invariant("payroll_payable_clears", "per payroll run, the payroll payable nets to zero once paid and to the "
              "run's net pay until then",
              "SELECT r.id, r.period, r.status, r.net_amount, COALESCE(SUM(jl.credit - jl.debit), 0) AS owed "
              "FROM payroll_run r LEFT JOIN journal_entry je ON je.source_type = 'payroll_run' "
              f"AND je.source_id = r.id LEFT JOIN journal_line jl ON jl.journal_entry_id = je.id "
              f"AND jl.account_id IN ({_PAYABLE}) GROUP BY r.id, r.period, r.status, r.net_amount "
              "HAVING ABS(COALESCE(SUM(jl.credit - jl.debit), 0) - "
              f"CASE WHEN r.status = 'paid' THEN 0 ELSE r.net_amount END) > {MONEY_EPS}"),
    Invariant("payroll_payable_matches_unpaid_runs", "the payroll payable account equals the net pay of unpaid runs",
              "SELECT u.unpaid, b.balance FROM (SELECT COALESCE(SUM(net_amount), 0) AS unpaid FROM payroll_run "
              "WHERE status <> 'paid') u CROSS JOIN (SELECT COALESCE(SUM(credit - debit), 0) AS balance "
              f"FROM journal_line WHERE account_id IN ({_PAYABLE})) b WHERE ABS(u.unpaid - b.balance) > {MONEY_EPS}"),
    Invariant("payroll_runs_add_up", "each payroll run's totals are the sums of its departments', and net is "
              "gross less deductions",
              "SELECT r.id, r.period, r.gross_amount, d.gross, r.net_amount, d.net FROM payroll_run r LEFT JOIN "
              "(SELECT payroll_run_id, SUM(headcount) AS headcount, SUM(gross_amount) AS gross, "
              "SUM(deduction_amount) AS deductions, SUM(contribution_amount) AS contributions, "
              "SUM(net_amount) AS net FROM payroll_run_department GROUP BY payroll_run_id) d "
              "ON d.payroll_run_id = r.id WHERE d.payroll_run_id IS NULL OR r.headcount <> d.headcount "
              f"OR ABS(r.gross_amount - d.gross) > {MONEY_EPS} OR ABS(r.deduction_amount - d.deductions) > {MONEY_EPS} "
              f"OR ABS(r.contribution_amount - d.contributions) > {MONEY_EPS} OR ABS(r.net_amount - d.net) > {MONEY_EPS} "
              f"OR ABS(r.gross_amount - r.deduction_amount - r.net_amount) > {MONEY_EPS}"),
)

_RETURNED = ("SELECT rl.{source} AS line_id, SUM(rl.quantity) AS returned FROM {table}_line rl JOIN {table} r "
             "ON r.id = rl.{table}_id WHERE r.status = 'posted' GROUP BY rl.{source}")
RETURN_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("returns_within_source",
              "returns never exceed their source: a shipment line takes back at most what it shipped and was "
              "invoiced, a goods receipt line at most what it received",
              "SELECT 'shipment_line' AS source, l.id, l.quantity, l.qty_invoiced AS invoiced, x.returned FROM "
              "shipment_line l JOIN (" + _RETURNED.format(source="shipment_line_id", table="customer_return") + ") x "
              f"ON x.line_id = l.id WHERE x.returned - l.qty_invoiced > {QTY_EPS} OR x.returned - l.quantity > {QTY_EPS} "
              "UNION ALL SELECT 'goods_receipt_line', l.id, l.quantity, NULL, x.returned FROM goods_receipt_line l "
              "JOIN (" + _RETURNED.format(source="goods_receipt_line_id", table="supplier_return") + ") x "
              f"ON x.line_id = l.id WHERE x.returned - l.quantity > {QTY_EPS}"),
    Invariant("returns_posted", "every customer and supplier return has its journal entry",
              _posted_without_entry("customer_return", "1 = 1") + " UNION ALL "
              + _posted_without_entry("supplier_return", "1 = 1")),
    Invariant("reversals_net_to_zero",
              "every reversal entry nets its original to zero, account by account and party by party",
              "SELECT x.original, x.account_id, x.customer_id, x.supplier_id, SUM(x.amount) AS net FROM ("
              "SELECT r.reversal_of_id AS original, jl.account_id, COALESCE(jl.customer_id, 0) AS customer_id, "
              "COALESCE(jl.supplier_id, 0) AS supplier_id, jl.debit - jl.credit AS amount FROM journal_entry r "
              "JOIN journal_line jl ON jl.journal_entry_id = r.id WHERE r.reversal_of_id IS NOT NULL UNION ALL "
              "SELECT o.id, jl.account_id, COALESCE(jl.customer_id, 0), COALESCE(jl.supplier_id, 0), "
              "jl.debit - jl.credit FROM journal_entry o JOIN journal_line jl ON jl.journal_entry_id = o.id "
              "WHERE o.id IN (SELECT reversal_of_id FROM journal_entry WHERE reversal_of_id IS NOT NULL)) x "
              "GROUP BY x.original, x.account_id, x.customer_id, x.supplier_id "
              f"HAVING ABS(SUM(x.amount)) > {MONEY_EPS}"),
)


def _sealed_in_clear() -> str:
    """Audit entries whose before/after JSON holds a sensitive key (`domain.audit.SENSITIVE`) with a value other
    than the `[sealed]` marker or null: occurrences of `"key":` less those of `"key":"[sealed]"` and `"key":null`
    (the stored JSON is canonical, with no spaces), counted by length so SQLite and PostgreSQL read it alike."""
    def count(column: str, pattern: str) -> str:  # the pattern split after its colon, read as no bind parameter
        head, tail = pattern.split(":", 1)
        return f"(LENGTH({column}) - LENGTH(REPLACE({column}, '{head}:' || '{tail}', ''))) / {len(pattern)}"

    def clear(column: str, key: str) -> str:
        named, sealed, null = f'"{key}":', f'"{key}":"{REDACTED}"', f'"{key}":null'
        return f"{count(column, named)} > {count(column, sealed)} + {count(column, null)}"

    found = " OR ".join(clear(c, k) for k in sorted(SENSITIVE) for c in ("a.before", "a.after"))
    return f"SELECT a.id, a.action, a.entity, a.ref FROM audit_event a WHERE {found}"


AUDIT_INVARIANTS: tuple[Invariant, ...] = (
    Invariant("audit_trail_seals_sensitive_fields", "the audit trail records sensitive fields (salary, bank "
              "account, tax id, payslip, secrets) as [sealed], never in clear", _sealed_in_clear()),
)

INVARIANTS = (INVARIANTS + LEAK_INVARIANTS + PERIOD_INVARIANTS + PRODUCTION_INVARIANTS + PAYROLL_INVARIANTS
              + RETURN_INVARIANTS + AUDIT_INVARIANTS)


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(repr(value)).quantize(Decimal("0.0001"))
    return value


def _check_one(conn: Connection, inv: Invariant, params: dict[str, Any]) -> Violation | None:
    used = {k: str(v) for k, v in params.items() if f":{k}" in inv.sql}  # as text: sqlite3 binds no Decimal
    result = conn.execute(text(inv.sql), used)
    keys = list(result.keys())
    rows = result.fetchall()
    if not rows:
        return None
    examples = [{k: _plain(v) for k, v in zip(keys, row, strict=True)} for row in rows[:EXAMPLES]]
    shown = ", ".join(f"{k}={v}" for k, v in examples[0].items())
    more = f" (and {len(rows) - 1} more)" if len(rows) > 1 else ""
    return Violation(inv.name, f"{inv.description}: violated by {shown}{more}", len(rows), examples)


def run_check(target: Engine | Connection, only: list[str] | None = None,
              quantity_tolerance: Decimal | None = None) -> CheckReport:
    """Check every invariant (or those named in `only`) and return what holds and what does not.

    `quantity_tolerance` is the three-way match's (default: the configured one).
    """
    unknown = set(only or []) - {i.name for i in INVARIANTS}
    if unknown:
        from erpcore.exceptions import ValidationFailed

        raise ValidationFailed(f"unknown invariant(s): {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    report = CheckReport()
    chosen = [i for i in INVARIANTS if only is None or i.name in only]
    params = {"qty_tolerance": _quantity_tolerance() if quantity_tolerance is None else quantity_tolerance}
    if isinstance(target, Engine) and target.dialect.name == "postgresql" and len(chosen) > 1:
        _run_parallel(target, chosen, report, params)
    elif isinstance(target, Engine):
        with target.connect() as conn:
            _run_all(conn, chosen, report, params)
    else:
        _run_all(target, chosen, report, params)
    report.duration_s = time.perf_counter() - started
    return report


def _quantity_tolerance() -> Decimal:
    from erpcore.config import load_settings

    return load_settings().matching.quantity_tolerance


PARALLEL = 2  # connections checking at once on PostgreSQL: the queries are independent scans


def _run_parallel(engine: Engine, chosen: list[Invariant], report: CheckReport, params: dict[str, Any]) -> None:
    """The invariants spread over `PARALLEL` connections; the report keeps their order."""
    from concurrent.futures import ThreadPoolExecutor

    def one(inv: Invariant) -> Violation | None:
        with engine.connect() as conn:
            return _check_one(conn, inv, params)

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        found = list(pool.map(one, chosen))
    report.checked.extend(inv.name for inv in chosen)
    report.violations.extend(v for v in found if v is not None)


def _run_all(conn: Connection, chosen: list[Invariant], report: CheckReport, params: dict[str, Any]) -> None:
    for inv in chosen:
        report.checked.append(inv.name)
        violation = _check_one(conn, inv, params)
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
