"""`erpops report <name>`: one command per report of the catalogue, rendered as a table, `--json` or `--csv`.

Every command has the same options; those its report does not take are hidden from its help and refused
(exit 2) when given.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TYPE_CHECKING

import typer

from erpcore.reporting.catalogue import REPORTS, Input, ReportSpec
from opskit import output

if TYPE_CHECKING:
    from erpcore.reporting.sheet import Sheet

report_app = typer.Typer(help="Reports a controller reads: trial balance, balance sheet, profit and loss, stock "
                              "valuation, AR and AP ageing, sales; as a table, --json or --csv.\n\n"
                              "Example: erpops report balance-sheet --period 2026-11 --compare",
                         no_args_is_help=True)
DATE = "%Y-%m-%d"
CsvFlag = typer.Option(False, "--csv", help="Print CSV on stdout (the totals row last).")


def _command(spec: ReportSpec) -> Callable[..., None]:
    hide = {i: i not in spec.inputs for i in Input}
    period_opt = typer.Option(None, "--period", help="The month, YYYY-MM (default: this month).",
                              hidden=hide[Input.PERIOD])
    from_opt = typer.Option(None, "--from", formats=[DATE], hidden=hide[Input.PERIOD],
                            help="First day of a date range (with --to).")
    to_opt = typer.Option(None, "--to", formats=[DATE], hidden=hide[Input.PERIOD],
                          help="Last day of a date range (with --from).")
    compare_opt = typer.Option(False, "--compare", help="Add the previous period's figures beside.",
                               hidden=hide[Input.COMPARE])
    as_of_opt = typer.Option(None, "--as-of", formats=[DATE], hidden=hide[Input.AS_OF],
                             help="The day the ageing is taken at (default: today).")
    buckets_opt = typer.Option(None, "--buckets", help="Days overdue where each bucket ends (default: 30,60,90).",
                               hidden=hide[Input.BUCKETS])
    warehouse_opt = typer.Option(None, "--warehouse", help="Only this warehouse (its code).",
                                 hidden=hide[Input.WAREHOUSE])

    def command(
        period: str | None = period_opt,
        date_from: dt.datetime | None = from_opt,
        date_to: dt.datetime | None = to_opt,
        compare: bool = compare_opt,
        as_of: dt.datetime | None = as_of_opt,
        buckets: str | None = buckets_opt,
        warehouse: str | None = warehouse_opt,
        as_json: bool = output.JsonFlag,
        as_csv: bool = CsvFlag,
    ) -> None:
        from erpcore.exceptions import InvalidInput
        from erpcore.migrate import open_database
        from erpcore.reporting.catalogue import query_for

        if as_json and as_csv:
            raise InvalidInput("--json and --csv exclude each other: give one")
        query = query_for(spec, dt.date.today(), period=period, date_from=_day(date_from), date_to=_day(date_to),
                          compare=compare, as_of=_day(as_of), buckets=buckets, warehouse_code=warehouse)
        result = spec.load()(open_database(), query)
        if as_json:
            output.print_json(result)
        elif as_csv:
            _csv(result.sheet())
        else:
            _table(result.sheet())

    command.__doc__ = f"{spec.summary}\n\nExample: erpops report {spec.name} {spec.example}"
    command.__name__ = spec.name.replace("-", "_")
    return command


def _day(value: dt.datetime | None) -> dt.date | None:
    return None if value is None else value.date()


def _table(sheet: Sheet) -> None:
    numeric = {c.header for c in sheet.columns if c.numeric}
    output.stdout().print(output.table(sheet.title, [c.header for c in sheet.columns], sheet.rows, numeric=numeric,
                                       footer=sheet.total))


def _csv(sheet: Sheet) -> None:
    rows = list(sheet.rows) + ([sheet.total] if sheet.total is not None else [])
    output.print_csv([c.key for c in sheet.columns], rows)


for _spec in REPORTS.values():
    report_app.command(_spec.name)(_command(_spec))
