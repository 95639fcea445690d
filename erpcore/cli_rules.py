"""`erpops rules|budget|roles check`: the rulebook, budgets and the segregation-of-duties check from the shell, as a
named actor through the same services as the API."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer

from erpcore.cli_access import roles_app
from opskit import output
from opskit.exitcodes import ExitCode

rules_app = typer.Typer(help="Approval rules and business-rule controls, as data.\n\n"
                             "Example: erpops rules load erpcore/rulebook.yaml", no_args_is_help=True)
budget_app = typer.Typer(help="Budgets per department, account and month, and budget versus actual.\n\n"
                              "Example: erpops budget set OPS 1200 2026-11 50000", no_args_is_help=True)
PERIOD = typer.Option("--period", help="Only this month, YYYY-MM.")
DEPARTMENT = typer.Option("--department", help="Only this department (code).")


def _erp() -> Any:
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    return bootstrap(open_database())


def _actor() -> Any:
    from erpcore.access import cli_actor

    return cli_actor()


def _rules_table(rows: list[dict[str, Any]]) -> Any:
    return output.table("Approval rules", ["code", "document", "priority", "conditions", "steps", "version"], [
        (r["code"], r["document_type"], r["priority"], _conditions(r["conditions"]), _steps(r["steps"]),
         r["version"]) for r in rows])


def _conditions(conditions: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v if not isinstance(v, list) else '|'.join(v)}" for k, v in conditions.items()) or "always"


def _steps(steps: list[dict[str, Any]]) -> str:
    return " then ".join(f"{s['required']} of {'/'.join(s['roles'])}" for s in steps)


@rules_app.command("load")
def load(path: Annotated[Path, typer.Argument(help="A rulebook YAML file (controls, approval_rules).")],
         as_json: bool = output.JsonFlag) -> None:
    """Load a rulebook into the database: its controls and approval rules apply to the next document.

    Example: erpops rules load erpcore/rulebook.yaml
    """
    from erpcore.services import rulebook

    doc = rulebook.load_rulebook(_erp().uow(_actor()), rulebook.read_rulebook(path))
    output.render(doc.row, as_json, lambda r: f"loaded {len(r['controls'])} control(s) and "
                                              f"{len(r['approval_rules'])} approval rule(s) from {path}")


@rules_app.command("list")
def list_(as_json: bool = output.JsonFlag) -> None:
    """The control settings and approval rules in force.

    Example: erpops rules list --json
    """
    from erpcore.services import rulebook

    with _erp().engine.connect() as conn:
        data = {"controls": rulebook.list_controls(conn), "approval_rules": rulebook.list_rules(conn)}
    if as_json:
        output.print_json(data)
        return
    console = output.stdout()
    console.print(output.table("Controls", ["control", "mode", "parameters", "set by"], [
        (c["name"], c["mode"], _conditions(c["params"]) if c["params"] else "", c["updated_by"] or "(default)")
        for c in data["controls"]]))
    console.print(_rules_table(data["approval_rules"]))


@rules_app.command("show")
def show(code: Annotated[str, typer.Argument(help="The approval rule's code.")],
         as_json: bool = output.JsonFlag) -> None:
    """One approval rule.

    Example: erpops rules show po-large --json
    """
    from erpcore.services import rulebook

    with _erp().engine.connect() as conn:
        row = rulebook.rule_row(conn, code)
    output.render(row, as_json, lambda r: _rules_table([r]))


def _pairs(values: list[str], what: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for value in values:
        key, sep, raw = value.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{what} {value!r}: give KEY=VALUE")
        out[key] = raw.split("|") if key in ("supplier", "customer", "item_category", "department") else raw
    return out


def _step(value: str) -> dict[str, Any]:
    roles, _, required = value.partition(":")
    try:
        return {"roles": [r for r in roles.split(",") if r], "required": int(required or 1)}
    except ValueError:
        raise typer.BadParameter(f"step {value!r}: ROLE[,ROLE...][:N], N a whole number") from None


@rules_app.command("set")
def set_(
    code: Annotated[str, typer.Argument(help="The approval rule's code (created or replaced).")],
    document_type: Annotated[str, typer.Option("--document-type", help="purchase_order or sales_order.")],
    step: Annotated[list[str], typer.Option("--step", help="ROLE[,ROLE...][:N]: N approvers of these roles; "
                                                          "repeat for steps in sequence.")],
    condition: Annotated[list[str] | None, typer.Option(
        "--when", help="KEY=VALUE: amount_over, discount_over, supplier, customer, item_category, department "
                       "(codes separated by |); repeatable, all must hold.")] = None,
    priority: Annotated[int, typer.Option(help="Order among matching rules (low first).")] = 100,
    description: Annotated[str, typer.Option(help="What the rule is for.")] = "",
    as_json: bool = output.JsonFlag,
) -> None:
    """Create or replace an approval rule; documents submitted from now on follow it, no restart needed.

    Example: erpops rules set po-large --document-type purchase_order --when amount_over=100000 --step purchasing --step finance,admin:2
    """
    from erpcore.services import rulebook

    raw = {"code": code, "document_type": document_type, "conditions": _pairs(condition or [], "condition"),
           "steps": [_step(s) for s in step], "priority": priority, "description": description}
    doc = rulebook.set_rule(_erp().uow(_actor()), raw)
    output.render(doc.row, as_json, lambda r: _rules_table([r]))


@rules_app.command("delete")
def delete(code: Annotated[str, typer.Argument(help="The approval rule's code.")],
           as_json: bool = output.JsonFlag) -> None:
    """Delete an approval rule (documents already pending keep the steps they were submitted with).

    Example: erpops rules delete po-large
    """
    from erpcore.services import rulebook

    doc = rulebook.delete_rule(_erp().uow(_actor()), code)
    output.render(doc.row, as_json, lambda r: f"deleted approval rule {r['code']} (version {r['version']})")


@rules_app.command("control")
def control(
    name: Annotated[str, typer.Argument(help="budget, price_below_cost, discount_limit, credit_limit or tax_data.")],
    mode: Annotated[str, typer.Option(help="stop, warn or off.")] = "stop",
    param: Annotated[list[str] | None, typer.Option("--param", help="KEY=VALUE, e.g. max_percent=30.")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Set a control's mode and parameters.

    Example: erpops rules control discount_limit --mode warn --param max_percent=25
    """
    from erpcore.services import rulebook

    doc = rulebook.set_control(_erp().uow(_actor()), name, {"mode": mode, **_pairs(param or [], "parameter")})
    output.render(doc.row, as_json, lambda r: f"control {r['name']}: {r['mode']} {_conditions(r['params'])}")


@rules_app.command("blocks")
def blocks(rule: Annotated[str | None, typer.Option(help="Only this rule.")] = None,
           limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many, newest first.")] = 50,
           as_json: bool = output.JsonFlag) -> None:
    """Writes the rules blocked (or let through with a warning): who, what, which rule, when.

    Example: erpops rules blocks --rule budget --json
    """
    from erpcore.services import rulebook

    with _erp().engine.connect() as conn:
        rows = rulebook.list_blocks(conn, rule, limit)
    output.render(rows, as_json, lambda rs: output.table("Rule blocks", [
        "when", "outcome", "rule", "action", "document", "actor", "message"], [
        (r["created_at"], r["outcome"], r["rule"], r["action"], f"{r['document_type']} {r['document_id'] or ''}",
         r["actor"], r["message"]) for r in rs]))


def _amount(value: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"amount {value!r} is not a number") from None


@budget_app.command("set")
def budget_set(
    department: Annotated[str, typer.Argument(help="Department code.")],
    account: Annotated[str, typer.Argument(help="Account code (1200: inventory, what purchases spend).")],
    period: Annotated[str, typer.Argument(help="The month, YYYY-MM.")],
    amount: Annotated[str, typer.Argument(help="The budget, in the currency (two decimals at most).")],
    as_json: bool = output.JsonFlag,
) -> None:
    """Set the budget of a department on an account for a month.

    Example: erpops budget set OPS 1200 2026-11 50000
    """
    from erpcore.services import budgets

    doc = budgets.set_budget(_erp().uow(_actor()), department, account, period, _amount(amount))
    output.render(doc.row, as_json, lambda r: f"budget {r['department']} {r['account']} {r['period']}: {r['amount']}")


@budget_app.command("list")
def budget_list(period: Annotated[str | None, PERIOD] = None, department: Annotated[str | None, DEPARTMENT] = None,
                as_json: bool = output.JsonFlag) -> None:
    """Budgets by month, department and account.

    Example: erpops budget list --period 2026-11 --json
    """
    from erpcore.services import budgets

    with _erp().engine.connect() as conn:
        rows = budgets.list_budgets(conn, period, department)
    output.render(rows, as_json, lambda rs: output.table("Budgets", ["period", "department", "account", "amount",
                                                                     "set by"], [
        (r["period"], r["department"], r["account"], r["amount"], r["updated_by"]) for r in rs]))


@budget_app.command("report")
def budget_report(period: Annotated[str | None, PERIOD] = None,
                  department: Annotated[str | None, DEPARTMENT] = None, as_json: bool = output.JsonFlag) -> None:
    """Budget versus actual: budget, committed (approved, not invoiced), actual (ledger), remaining.

    Example: erpops budget report --period 2026-11
    """
    from erpcore.reports_budget import budget_report as report

    with _erp().engine.connect() as conn:
        rows = report(conn, period, department)
    output.render(rows, as_json, lambda rs: output.table("Budget versus actual", [
        "period", "department", "account", "budget", "committed", "actual", "remaining", "used %"], [
        (r["period"], r["department"], r["account"], r["budget"], r["committed"], r["actual"], r["remaining"],
         r["used_percent"]) for r in rs]))


@roles_app.command("check")  # beside list/show/create/grant/revoke, in cli_access
def roles_check(as_json: bool = output.JsonFlag) -> None:
    """Report roles holding two permissions segregation of duties keeps apart; exit 1 when one does.

    Example: erpops roles check --json
    """
    from erpcore.services.rulebook import role_conflicts

    found = role_conflicts()
    output.render({"ok": not found, "conflicts": found}, as_json, lambda r: output.table(
        "Conflicting permissions" if found else "No role holds conflicting permissions",
        ["role", "permissions", "conflict"], [(c["role"], c["permissions"], c["conflict"]) for c in r["conflicts"]]))
    if found:
        raise typer.Exit(ExitCode.FAILED)


def register(app: typer.Typer) -> None:
    app.add_typer(rules_app, name="rules")
    app.add_typer(budget_app, name="budget")
