"""`erpops payroll ...`: departments, employees, the monthly run, its payment and summary (the API's services,
as the named CLI actor), and `erpops keys status|rotate|generate` for the sealed sensitive fields."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any

import typer

from opskit import output
from opskit.exitcodes import ExitCode

payroll_app = typer.Typer(help="Hire to payroll: departments, employees, monthly runs and payments.\n\n"
                               "Example: erpops payroll run 2026-11", no_args_is_help=True)
department_app = typer.Typer(help="Departments and their cost centres.\n\n"
                                  "Example: erpops payroll department add OPS Operations --cost-centre CC-100",
                             no_args_is_help=True)
employee_app = typer.Typer(help="Employees.\n\nExample: erpops payroll employee list --json", no_args_is_help=True)
keys_app = typer.Typer(help="Encryption keys of sensitive fields: status, rotation, new keys.\n\n"
                            "Example: erpops keys status", no_args_is_help=True)
PERIOD = typer.Argument(help="The month, YYYY-MM.", metavar="PERIOD")
DATE = "%Y-%m-%d"
RUN_COLUMNS = ["department", "cost centre", "headcount", "gross", "deductions", "contributions", "net"]


def _erp() -> Any:
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    return bootstrap(open_database())


def _actor() -> Any:
    from erpcore.access import cli_actor

    return cli_actor()


@department_app.command("add")
def department_add(code: Annotated[str, typer.Argument(help="Department code.")],
                   name: Annotated[str, typer.Argument(help="Department name.")],
                   cost_centre: Annotated[str, typer.Option("--cost-centre", help="Cost centre salaries go to.")],
                   as_json: bool = output.JsonFlag) -> None:
    """Create a department with the cost centre its salaries are booked to.

    Example: erpops payroll department add OPS Operations --cost-centre CC-100
    """
    from erpcore.services import payroll

    doc = payroll.create_department(_erp().uow(_actor()), code, name, cost_centre)
    output.render(doc.row, as_json, lambda r: f"department {r['code']} ({r['cost_centre']}) created")


@employee_app.command("add")
def employee_add(
    code: Annotated[str, typer.Argument(help="Employee code.")],
    name: Annotated[str, typer.Argument(help="Full name.")],
    department: Annotated[str, typer.Option("--department", help="Department code.")],
    salary: Annotated[str, typer.Option("--salary", help="Monthly gross salary, e.g. 3250.00.")],
    hired_on: Annotated[dt.datetime | None, typer.Option("--hired-on", formats=[DATE], help="Default: today.")] = None,
    bank_account: Annotated[str | None, typer.Option("--bank-account", help="Stored encrypted.")] = None,
    tax_id: Annotated[str | None, typer.Option("--tax-id", help="Stored encrypted.")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Hire an employee into a department at a monthly gross salary.

    Example: erpops payroll employee add E042 "Ada Lovelace" --department OPS --salary 4200.00 --tax-id AB123
    """
    from erpcore.services import payroll

    doc = payroll.hire_employee(_erp().uow(_actor()), code, name, department, _amount(salary),
                                hired_on.date() if hired_on else None, bank_account, tax_id)
    output.render(doc.row, as_json, lambda r: f"employee {r['code']} hired into {r['department']} "
                                              f"from {r['hired_on']}")


def _amount(text: str) -> Decimal:
    from decimal import InvalidOperation

    from erpcore.exceptions import ValidationFailed

    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationFailed(f"salary {text!r} is not an amount (e.g. 3250.00)") from None
    if not value.is_finite():
        raise ValidationFailed(f"salary {text!r} is not an amount (e.g. 3250.00)")
    return value


@employee_app.command("list")
def employee_list(as_json: bool = output.JsonFlag) -> None:
    """Employees with their department and (the CLI being an admin) their sensitive fields.

    Example: erpops payroll employee list --json
    """
    from erpcore.services import payroll

    erp = _erp()
    rows = payroll.list_employees(erp.engine, erp.keyring, limit=1_000_000)
    columns = ["code", "name", "department", "cost centre", "hired on", "salary", "bank account", "tax id"]
    output.render(rows, as_json, lambda rs: output.table("Employees", columns, [
        (r["code"], r["name"], r["department"], r["cost_centre"], r["hired_on"], r["salary"], r["bank_account"],
         r["tax_id"]) for r in rs]))


def _run_view(run: dict[str, Any]) -> Any:
    rows: list[tuple[object, ...]] = [
        (d["code"], d["cost_centre"], d["headcount"], d["gross_amount"], d["deduction_amount"],
         d["contribution_amount"], d["net_amount"]) for d in run["departments"]]
    rows.append(("[bold]total[/]", "", run["headcount"], run["gross_amount"], run["deduction_amount"],
                 run["contribution_amount"], run["net_amount"]))
    paid = f", paid {run['paid_on']}" if run["paid_on"] else ""
    return output.table(f"Payroll {run['period']} ({run['status']}{paid})", RUN_COLUMNS, rows)


@payroll_app.command("run")
def run(period: Annotated[str, PERIOD], as_json: bool = output.JsonFlag) -> None:
    """Run a month's payroll, posted on its last day; running a month again shows its run and writes nothing.

    Example: erpops payroll run 2026-11 --json
    """
    from erpcore.services import payroll

    output.render(payroll.run_payroll(_erp().uow(_actor()), period).row, as_json, _run_view)


@payroll_app.command("pay")
def pay(period: Annotated[str, PERIOD],
        date: Annotated[dt.datetime | None, typer.Option("--date", formats=[DATE],
                                                         help="Payment date; default: the run's date.")] = None,
        as_json: bool = output.JsonFlag) -> None:
    """Pay a month's run: its net pay leaves the bank (Dr payroll payable / Cr Bank); a paid run is shown as is.

    Example: erpops payroll pay 2026-11 --date 2026-12-01
    """
    from erpcore.services import payroll

    doc = payroll.pay_payroll(_erp().uow(_actor()), period, date.date() if date else None)
    output.render(doc.row, as_json, _run_view)


@payroll_app.command("summary")
def summary(period: Annotated[str, PERIOD], as_json: bool = output.JsonFlag) -> None:
    """Gross, deductions, employer contributions and net pay per department for a month.

    Example: erpops payroll summary 2026-11 --json
    """
    from erpcore.migrate import open_database
    from erpcore.reports_payroll import payroll_summary

    report = payroll_summary(open_database(), period)
    if as_json:
        output.print_json(report)
        return
    rows: list[tuple[object, ...]] = [(r.department, r.cost_centre, r.headcount, r.gross, r.deductions,
                                       r.contributions, r.net) for r in report.rows]
    t = report.total
    rows.append(("[bold]total[/]", "", t.headcount, t.gross, t.deductions, t.contributions, t.net))
    output.stdout().print(output.table(f"Payroll summary {report.period} ({report.status})", RUN_COLUMNS, rows))


@keys_app.command("status")
def keys_status(as_json: bool = output.JsonFlag) -> None:
    """Sealed values per field and key id ("plain": stored without a key); exit 1 when a key in use is missing.

    Example: erpops keys status --json
    """
    from erpcore.services import keys

    erp = _erp()
    found = keys.status(erp.engine, erp.keyring)
    if as_json:
        output.print_json({"active": found.active, "configured": found.configured, "missing": found.missing,
                           "fields": {f.field: f.counts for f in found.fields}, "totals": found.totals})
    else:
        rows = [(f.field, ", ".join(f"{k}: {n}" for k, n in f.counts.items()) or "-") for f in found.fields]
        output.stdout().print(output.table(f"Sealed fields (active key: {found.active or 'none'})",
                                           ["field", "values per key"], rows))
    if found.missing:
        output.error(f"values are sealed with key(s) {', '.join(found.missing)}, which are not configured: "
                     "add them to ERPOPS_ENCRYPTION_KEY or the key file")
        raise typer.Exit(ExitCode.FAILED)


@keys_app.command("rotate")
def keys_rotate(
    batch_size: Annotated[int, typer.Option("--batch-size", min=1, max=100_000, help="Rows per transaction.")] = 500,
    max_batches: Annotated[int | None, typer.Option("--max-batches", min=1,
                                                    help="Stop after this many batches (resume later).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Re-seal every value not under the active key, in batches (one transaction each), while the ERP runs.

    Resumable: run it again after a stop and it carries on with the values not yet rotated.

    Example: ERPOPS_ENCRYPTION_KEY="k1:...,k2:..." erpops keys rotate --batch-size 1000
    """
    from erpcore.services import keys

    erp = _erp()
    result = keys.rotate(erp.engine, erp.keyring, batch_size, max_batches)
    output.render(result, as_json, lambda r: r.reason)


@keys_app.command("generate")
def keys_generate(kid: Annotated[str, typer.Argument(help="The new key's id (letters, digits, '_', '-').")]) -> None:
    """Print a new random key as KID:BASE64KEY, to add to ERPOPS_ENCRYPTION_KEY or the key file.

    Example: erpops keys generate k2
    """
    from erpcore.crypto import generate_key

    typer.echo(generate_key(kid))


def register(app: typer.Typer) -> None:
    payroll_app.add_typer(department_app, name="department")
    payroll_app.add_typer(employee_app, name="employee")
    app.add_typer(payroll_app, name="payroll")
    app.add_typer(keys_app, name="keys")
