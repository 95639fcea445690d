"""The reports of the plan-to-produce, hire-to-payroll and budget chains, in the catalogue beside the ledger's:
production cost per work order, the payroll summary and budget versus actual. Each runner wraps the chain's own
query (`erpcore.reports_production`, `erpcore.reports_payroll`, `erpcore.reports_budget`) in a sheet."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Engine

from erpcore.domain import periods
from erpcore.domain.money import ZERO
from erpcore.reporting.catalogue import ReportQuery
from erpcore.reporting.sheet import Column, Kind, Sheet, sheet
from erpcore.reports_payroll import PayrollSummary, payroll_summary
from erpcore.reports_production import ProductionCost, production_cost

M = Kind.MONEY
PRODUCTION_COLUMNS = (
    Column("number", "Work order"), Column("sku", "Item"), Column("status", "Status"),
    Column("planned_date", "Planned", Kind.DATE), Column("quantity", "Qty", Kind.QUANTITY),
    Column("qty_received", "Received", Kind.QUANTITY), Column("planned_cost", "Planned cost", M),
    Column("actual_cost", "Actual cost", M), Column("cost_difference", "Difference", M),
    Column("received_cost", "Into stock", M), Column("variance", "Variance", M), Column("in_wip", "In WIP", M))
PAYROLL_COLUMNS = (
    Column("department", "Department"), Column("name", "Name"), Column("cost_centre", "Cost centre"),
    Column("headcount", "Headcount", Kind.COUNT), Column("gross", "Gross", M), Column("deductions", "Deductions", M),
    Column("contributions", "Employer contributions", M), Column("net", "Net", M))
BUDGET_COLUMNS = (
    Column("period", "Period"), Column("department", "Department"), Column("account", "Account"),
    Column("budget", "Budget", M), Column("committed", "Committed", M), Column("actual", "Actual", M),
    Column("remaining", "Remaining", M))


@dataclass(frozen=True)
class ProductionCostReport(ProductionCost):
    def sheet(self) -> Sheet:
        t = self.totals
        return sheet("Production cost per work order", PRODUCTION_COLUMNS, self.rows, {
            "planned_cost": t.planned_cost, "actual_cost": t.actual_cost, "cost_difference": t.cost_difference,
            "received_cost": t.received_cost, "variance": t.variance, "in_wip": t.in_wip})


def production_cost_report(engine: Engine, query: ReportQuery) -> ProductionCostReport:
    """Work orders planned in the period: planned vs actual component cost, into stock, variance, still in WIP."""
    assert query.span is not None
    found = production_cost(engine, query.span.date_from, query.span.date_to)
    return ProductionCostReport(found.date_from, found.date_to, found.rows, found.totals)


@dataclass(frozen=True)
class PayrollSummaryReport(PayrollSummary):
    def sheet(self) -> Sheet:
        t = self.total
        return sheet(f"Payroll summary {self.period} ({self.status})", PAYROLL_COLUMNS, self.rows, {
            "headcount": t.headcount, "gross": t.gross, "deductions": t.deductions,
            "contributions": t.contributions, "net": t.net})


def payroll_summary_report(engine: Engine, query: ReportQuery) -> PayrollSummaryReport:
    """The month's payroll per department (the month the period or range starts in; 404 without a run)."""
    assert query.span is not None
    found = payroll_summary(engine, periods.name(periods.of(query.span.date_from)))
    return PayrollSummaryReport(found.period, found.status, found.rows, found.total)


@dataclass(frozen=True)
class BudgetRow:
    period: str
    department: str
    account: str
    budget: Decimal
    committed: Decimal
    actual: Decimal
    remaining: Decimal


@dataclass(frozen=True)
class BudgetVersusActual:
    period: str
    rows: list[BudgetRow]
    budget: Decimal
    committed: Decimal
    actual: Decimal
    remaining: Decimal

    def sheet(self) -> Sheet:
        return sheet(f"Budget versus actual {self.period}", BUDGET_COLUMNS, self.rows, {
            "budget": self.budget, "committed": self.committed, "actual": self.actual, "remaining": self.remaining})


def budget_report(engine: Engine, query: ReportQuery) -> BudgetVersusActual:
    """Per department and account of the month: the budget, committed (approved, not invoiced), actual, left."""
    from erpcore.reports_budget import budget_report as rows_of

    assert query.span is not None
    period = periods.name(periods.of(query.span.date_from))
    with engine.connect() as conn:
        rows = [BudgetRow(r["period"], r["department"], r["account"], r["budget"], r["committed"], r["actual"],
                          r["remaining"]) for r in rows_of(conn, period)]

    def total(name: str) -> Decimal:
        return sum((getattr(r, name) for r in rows), ZERO)

    return BudgetVersusActual(period, rows, total("budget"), total("committed"), total("actual"), total("remaining"))
