"""Reports a controller reads: set-based SQL returning typed rows and totals, rendered by the CLI and the API.

A report is a function `(engine, ReportQuery) -> <dataclass>` whose dataclass holds typed rows and totals and
offers `sheet()`: its columns (`sheet.Column`: key, header, kind) and rows as cells. The API returns the
dataclass as JSON (`GET /api/v1/reports/<name>`); `erpops report <name>` prints the sheet as a rich table, the
dataclass with `--json` (the same document as the API), or the sheet as CSV with `--csv` (keys as headers, the
totals row last). Each report reconciles with the ledger (tests/integration/erpcore/test_reports.py).

    catalogue.py    the registry: name -> ReportSpec (title, permission, inputs, runner as "module:function")
    sheet.py        Column, Kind, Sheet: the column spec and cells the CLI renders
    ledger.py       trial balance                 statements.py  balance sheet, profit and loss
    stock.py        stock valuation               ageing.py      AR and AP ageing
    sales.py        sales by month and customer
    erpcore.domain.reporting    periods, the previous period, ageing buckets, aligning rows for comparison

Adding a report (production cost, payroll summary, budget versus actual) takes a module and one entry:

1. In a module of this package (or of your chain), a frozen dataclass of rows and totals with `sheet()`, and
   a runner reading the query's fields it needs::

       @dataclass(frozen=True)
       class PayrollSummary:
           date_from: dt.date
           date_to: dt.date
           rows: list[PayrollRow]
           total_net: Decimal

           def sheet(self) -> Sheet:
               return sheet("Payroll summary", COLUMNS, self.rows, {"net": self.total_net})

       def payroll_summary_report(engine: Engine, query: ReportQuery) -> PayrollSummary:
           assert query.span is not None
           ...  # one select() over the ledger or the documents

2. An entry in `catalogue.py` (append it to the tuple registered at the end, or call `register`)::

       ReportSpec("payroll-summary", "Payroll summary", "Gross, deductions and net per cost centre.",
                  "--period 2026-11 --compare", "hr.payroll.read",
                  "erpcore.reporting.payroll:payroll_summary_report", frozenset({Input.PERIOD, Input.COMPARE}))

That is all: `erpops report payroll-summary --period 2026-11 [--json|--csv]` and the route exist from then on,
with the inputs the entry names (`Input`: period or date range, compare, as-of date, ageing buckets,
warehouse); any other input is refused (exit 2, HTTP 422). A compared report runs the previous period
(`domain.reporting.previous`) alone and lines its rows up with `domain.reporting.align`. Then add a test that
reconciles it with the ledger, and its `--json` to tests/e2e/erpops/test_json_contract.py.
"""
