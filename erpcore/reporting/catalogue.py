"""The registry of reports, keyed by name: each becomes `erpops report <name>` and `GET /api/v1/reports/<name>`.

An entry names its runner as `module:function` so that `erpops --help` imports no report (nor SQLAlchemy);
the runner is imported when the report runs. See the package docstring for how to add one.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, get_type_hints

from erpcore.domain import reporting
from erpcore.domain.reporting import Span
from erpcore.exceptions import InvalidInput

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from erpcore.reporting.sheet import Tabular


class Input(StrEnum):
    """What a report may be asked for; the CLI option and the API query parameter of each are fixed."""

    PERIOD = "period"  # --period YYYY-MM | --from/--to; ?period= | ?date_from=&date_to=
    COMPARE = "compare"  # --compare; ?compare=true: columns for the previous period
    AS_OF = "as_of"  # --as-of YYYY-MM-DD; ?as_of= (default today)
    BUCKETS = "buckets"  # --buckets 30,60,90; ?buckets=
    WAREHOUSE = "warehouse"  # --warehouse CODE; ?warehouse_id=


@dataclass(frozen=True)
class ReportQuery:
    """A report's arguments, parsed and checked: only those its entry accepts are set."""

    span: Span | None = None
    compare: bool = False
    as_of: dt.date | None = None
    buckets: tuple[int, ...] = reporting.DEFAULT_BUCKETS
    warehouse_id: int | None = None
    warehouse_code: str | None = None


@dataclass(frozen=True)
class ReportSpec:
    """One report: its name (the CLI command and the URL), what it is, who may read it, how to run it."""

    name: str
    title: str
    summary: str  # one sentence: the command's help and the route's description
    example: str  # the arguments after `erpops report <name>` in the help's example
    permission: str  # an entry of `erpcore.access.PERMISSIONS`
    runner: str  # "module:function", a function (engine, ReportQuery) -> a Tabular dataclass
    inputs: frozenset[Input] = frozenset()
    may_be_missing: bool = False  # 404 when what it reports on does not exist (a month without a payroll run)

    def load(self) -> Callable[[Engine, ReportQuery], Tabular]:
        module, _, function = self.runner.partition(":")
        found: Callable[[Engine, ReportQuery], Tabular] = getattr(importlib.import_module(module), function)
        return found

    def result_type(self) -> Any:
        """The dataclass the runner returns (the API's response model)."""
        return get_type_hints(self.load())["return"]


REPORTS: dict[str, ReportSpec] = {}


def register(spec: ReportSpec) -> ReportSpec:
    """Add a report to the catalogue; a name is registered once."""
    if spec.name in REPORTS:
        raise ValueError(f"report {spec.name!r} is already registered")
    REPORTS[spec.name] = spec
    return spec


def get(name: str) -> ReportSpec:
    try:
        return REPORTS[name]
    except KeyError:
        raise InvalidInput(f"no report {name!r}; one of: {', '.join(sorted(REPORTS))}") from None


NAMED = {Input.PERIOD: "period or date range", Input.COMPARE: "comparison", Input.AS_OF: "as-of date",
         Input.BUCKETS: "ageing buckets", Input.WAREHOUSE: "warehouse"}


def query_for(spec: ReportSpec, today: dt.date, *, period: str | None = None, date_from: dt.date | None = None,
              date_to: dt.date | None = None, compare: bool = False, as_of: dt.date | None = None,
              buckets: str | None = None, warehouse_id: int | None = None,
              warehouse_code: str | None = None) -> ReportQuery:
    """The checked arguments of one run; an argument the report does not take is refused, naming it."""
    given = {Input.PERIOD: period is not None or date_from is not None or date_to is not None,
             Input.COMPARE: compare, Input.AS_OF: as_of is not None, Input.BUCKETS: buckets is not None,
             Input.WAREHOUSE: warehouse_id is not None or warehouse_code is not None}
    unexpected = [NAMED[i] for i, on in given.items() if on and i not in spec.inputs]
    if unexpected:
        raise InvalidInput(f"report {spec.name} takes no {' and no '.join(unexpected)}; it takes "
                           f"{', '.join(NAMED[i] for i in Input if i in spec.inputs) or 'no arguments'}")
    takes = spec.inputs.__contains__
    return ReportQuery(
        span=reporting.span_of(period, date_from, date_to, today) if takes(Input.PERIOD) else None,
        compare=compare,
        as_of=(as_of or today) if takes(Input.AS_OF) else None,
        buckets=reporting.parse_buckets(buckets) if takes(Input.BUCKETS) else reporting.DEFAULT_BUCKETS,
        warehouse_id=warehouse_id, warehouse_code=warehouse_code)


def run(name: str, engine: Engine, query: ReportQuery) -> Tabular:
    """Run the named report."""
    return get(name).load()(engine, query)


_P, _C, _A, _B = Input.PERIOD, Input.COMPARE, Input.AS_OF, Input.BUCKETS
FINANCE = "reports:read"
for _spec in (
    ReportSpec("trial-balance", "Trial balance", "Opening, debit, credit and closing per account for a period; "
               "the totals sum to zero.", "--period 2026-11 --compare", FINANCE,
               "erpcore.reporting.ledger:trial_balance_report", frozenset({_P, _C})),
    ReportSpec("balance-sheet", "Balance sheet", "Assets, liabilities and equity at the end of a period, with "
               "the year's result so far; assets = liabilities + equity + result.", "--period 2026-11 --compare",
               FINANCE, "erpcore.reporting.statements:balance_sheet_report", frozenset({_P, _C})),
    ReportSpec("profit-and-loss", "Profit and loss", "Income and expense per account over a period, and the "
               "result.", "--period 2026-11 --compare --csv", FINANCE,
               "erpcore.reporting.statements:profit_and_loss_report", frozenset({_P, _C})),
    ReportSpec("stock-valuation", "Stock valuation", "On hand, reserved, value and moving-average cost per item "
               "and warehouse.", "--warehouse MAIN --json", "stock_report:read",
               "erpcore.reporting.stock:stock_valuation_report", frozenset({Input.WAREHOUSE})),
    ReportSpec("ar-ageing", "AR ageing", "Open customer invoices by days overdue at a date, per customer; the "
               "total is the receivables account.", "--as-of 2026-11-30 --buckets 30,60,90", FINANCE,
               "erpcore.reporting.ageing:ar_ageing_report", frozenset({_A, _B})),
    ReportSpec("ap-ageing", "AP ageing", "Open supplier invoices by days overdue at a date, per supplier; the "
               "total is the payables account.", "--as-of 2026-11-30 --buckets 15,30,60", FINANCE,
               "erpcore.reporting.ageing:ap_ageing_report", frozenset({_A, _B})),
    ReportSpec("sales", "Sales by month and customer", "Net sales (the revenue account's movement) per month "
               "and customer over a period.", "--from 2026-01-01 --to 2026-11-30 --json", FINANCE,
               "erpcore.reporting.sales:sales_report", frozenset({_P})),
    ReportSpec("production-cost", "Production cost per work order", "Work orders planned in a period: planned "
               "and actual component cost, finished goods received, variance and what is still in WIP.",
               "--period 2026-11 --json", "production.read", "erpcore.reporting.chains:production_cost_report",
               frozenset({_P})),
    ReportSpec("payroll-summary", "Payroll summary", "A month's payroll per department: headcount, gross, "
               "deductions, employer contributions and net pay.", "--period 2026-11 --csv", "hr.read",
               "erpcore.reporting.chains:payroll_summary_report", frozenset({_P}), may_be_missing=True),
    ReportSpec("budget-vs-actual", "Budget versus actual", "Per department and account of a month: the budget, "
               "what approved purchase orders committed, what was spent, and what remains.", "--period 2026-11",
               "finance.budget.read", "erpcore.reporting.chains:budget_report", frozenset({_P})),
):
    register(_spec)
