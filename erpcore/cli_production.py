"""`erpops production`: bills of materials and work orders from the shell, as a named actor (the API's services)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Annotated, Any

import typer

from opskit import output

if TYPE_CHECKING:
    from erpcore.services.bootstrap import Erp
    from erpcore.services.production import BomLineInput

production_app = typer.Typer(help="Plan to produce: bills of materials, work orders, production cost.\n\n"
                                  "Example: erpops production workorder list --status released",
                             no_args_is_help=True)
bom_app = typer.Typer(help="Bills of materials of manufactured items.\n\n"
                           "Example: erpops production bom show 12", no_args_is_help=True)
workorder_app = typer.Typer(help="Work orders: plan, release, issue, receive, close, cancel, list.\n\n"
                                 "Example: erpops production workorder plan 12 --quantity 50", no_args_is_help=True)
production_app.add_typer(bom_app, name="bom")
production_app.add_typer(workorder_app, name="workorder")

DATE = "%Y-%m-%d"
ITEM = typer.Argument(help="The manufactured item's id.", metavar="ITEM_ID")
WORK_ORDER = typer.Argument(help="The work order's id.", metavar="WORK_ORDER_ID")
WO_COLUMNS = ["id", "number", "item", "status", "quantity", "planned", "issued", "received", "variance"]


def _erp() -> Erp:
    from erpcore.migrate import open_database
    from erpcore.services.bootstrap import bootstrap

    return bootstrap(open_database())


def _actor() -> Any:
    from erpcore.access import cli_actor

    return cli_actor()


def parse_bom_line(text: str) -> BomLineInput:
    """`COMPONENT_ID:QUANTITY[:SCRAP]` -> a BOM line; anything else is a usage error (exit 2)."""
    from erpcore.services.production import BomLineInput

    parts = text.split(":")
    try:
        if len(parts) not in (2, 3):
            raise ValueError
        return BomLineInput(int(parts[0]), Decimal(parts[1]), Decimal(parts[2]) if len(parts) == 3 else Decimal(0))
    except (ValueError, InvalidOperation):
        raise typer.BadParameter(f"{text!r} is not COMPONENT_ID:QUANTITY[:SCRAP] (e.g. 7:2.5:0.05)",
                                 param_hint="--line") from None


def _wo_view(row: dict[str, Any]) -> Any:
    table = output.table(f"Work order {row['number']} ({row['status']})",
                         ["line", "item", "quantity", "planned cost", "reserved", "issued", "issued cost"],
                         [(x["line_no"], x["item_id"], x["quantity"], x["planned_cost"], x["qty_reserved"],
                           x["qty_issued"], x["issued_cost"]) for x in row["lines"]])
    table.caption = (f"item {row['item_id']} x {row['quantity']}; planned {row['planned_cost']}, issued "
                     f"{row['issued_cost']}, received {row['received_cost']}, variance {row['variance_amount']}")
    return table


def _bom_view(row: dict[str, Any]) -> Any:
    return output.table(f"Bill of materials of {row['sku']} (item {row['item_id']})",
                        ["line", "component", "sku", "procurement", "quantity", "scrap"],
                        [(x["line_no"], x["component_id"], x["sku"], x["procurement"], x["quantity"],
                          x["scrap_factor"]) for x in row["lines"]])


@bom_app.command("add")
def bom_add(
    item_id: Annotated[int, ITEM],
    lines: Annotated[list[str], typer.Option("--line", help="COMPONENT_ID:QUANTITY[:SCRAP] per unit (repeatable).")],
    as_json: bool = output.JsonFlag,
) -> None:
    """Give a manufactured item its bill of materials; a cycle over the levels is refused (exit 1).

    Example: erpops production bom add 12 --line 7:2 --line 8:1:0.05
    """
    from erpcore.services import production

    doc = production.create_bom(_erp().uow(_actor()), item_id, [parse_bom_line(x) for x in lines])
    output.render(doc.row, as_json, _bom_view)


@bom_app.command("show")
def bom_show(item_id: Annotated[int, ITEM], as_json: bool = output.JsonFlag) -> None:
    """Show an item's bill of materials.

    Example: erpops production bom show 12 --json
    """
    from erpcore.services import production_views

    output.render(production_views.bom(_erp().engine, item_id), as_json, _bom_view)


@workorder_app.command("plan")
def workorder_plan(
    item_id: Annotated[int, ITEM],
    quantity: Annotated[str, typer.Option(help="How many to make.")],
    warehouse: Annotated[int | None, typer.Option(help="Warehouse id (default: the first).")] = None,
    planned: Annotated[dt.datetime | None, typer.Option(formats=[DATE], help="Planned date (default today).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Plan a work order: a line per BOM component (scrap included) at rolled-up standard cost.

    Example: erpops production workorder plan 12 --quantity 50 --json
    """
    from erpcore.services import production

    doc = production.plan_work_order(_erp().uow(_actor()), item_id, _quantity(quantity), warehouse,
                                     planned.date() if planned else None)
    output.render(doc.row, as_json, _wo_view)


def _quantity(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise typer.BadParameter(f"{text!r} is not a number", param_hint="--quantity") from None


@workorder_app.command("release")
def workorder_release(wo_id: Annotated[int, WORK_ORDER], as_json: bool = output.JsonFlag) -> None:
    """Reserve the components; shortages raise requisitions (or plan work orders for made components).

    Example: erpops production workorder release 3
    """
    from erpcore.services import production

    output.render(production.release_work_order(_erp().uow(_actor()), wo_id).row, as_json, _wo_view)


@workorder_app.command("issue")
def workorder_issue(
    wo_id: Annotated[int, WORK_ORDER],
    on: Annotated[dt.datetime | None, typer.Option("--date", formats=[DATE], help="Issue date (default today).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Issue the components to production at moving-average cost (Dr WIP / Cr Inventory).

    Example: erpops production workorder issue 3 --date 2026-11-30
    """
    from erpcore.services import production

    doc = production.issue_materials(_erp().uow(_actor()), wo_id, on.date() if on else None)
    output.render(doc.row, as_json, _wo_view)


@workorder_app.command("receive")
def workorder_receive(
    wo_id: Annotated[int, WORK_ORDER],
    quantity: Annotated[str | None, typer.Option(help="Good units made (default: all planned).")] = None,
    on: Annotated[dt.datetime | None, typer.Option("--date", formats=[DATE], help="Receipt date (default today).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Receive the finished goods at the rolled-up actual cost (Dr Inventory / Cr WIP).

    Example: erpops production workorder receive 3 --quantity 48
    """
    from erpcore.services import production

    doc = production.receive_finished_goods(_erp().uow(_actor()), wo_id,
                                            _quantity(quantity) if quantity is not None else None,
                                            on.date() if on else None)
    output.render(doc.row, as_json, _wo_view)


@workorder_app.command("close")
def workorder_close(
    wo_id: Annotated[int, WORK_ORDER],
    on: Annotated[dt.datetime | None, typer.Option("--date", formats=[DATE], help="Close date (default today).")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Close a received work order: what is left in WIP goes to production variance.

    Example: erpops production workorder close 3
    """
    from erpcore.services import production

    doc = production.close_work_order(_erp().uow(_actor()), wo_id, on.date() if on else None)
    output.render(doc.row, as_json, _wo_view)


@workorder_app.command("cancel")
def workorder_cancel(wo_id: Annotated[int, WORK_ORDER], as_json: bool = output.JsonFlag) -> None:
    """Cancel a planned or released work order, releasing its reservations.

    Example: erpops production workorder cancel 3
    """
    from erpcore.services import production

    output.render(production.cancel_work_order(_erp().uow(_actor()), wo_id).row, as_json, _wo_view)


@workorder_app.command("list")
def workorder_list(
    status: Annotated[str | None, typer.Option(help="Only work orders in this status.")] = None,
    item: Annotated[int | None, typer.Option(help="Only work orders of this item id.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="At most this many.")] = 100,
    as_json: bool = output.JsonFlag,
) -> None:
    """Work orders by id.

    Example: erpops production workorder list --status released --json
    """
    from erpcore.services import production_views

    rows = production_views.work_orders(_erp().engine, status, item, limit=limit)
    output.render(rows, as_json, lambda rs: output.table("Work orders", WO_COLUMNS, [
        (r["id"], r["number"], r["item_id"], r["status"], r["quantity"], r["planned_cost"], r["issued_cost"],
         r["received_cost"], r["variance_amount"]) for r in rs]))


@production_app.command("cost")
def cost(
    date_from: Annotated[dt.datetime | None, typer.Option("--from", formats=[DATE], help="Planned on or after.")] = None,
    date_to: Annotated[dt.datetime | None, typer.Option("--to", formats=[DATE], help="Planned on or before.")] = None,
    work_order: Annotated[int | None, typer.Option(help="Only this work order id.")] = None,
    as_json: bool = output.JsonFlag,
) -> None:
    """Production cost per work order: planned vs actual components, finished goods, variance, still in WIP.

    Example: erpops production cost --from 2026-01-01 --to 2026-12-31 --json
    """
    from erpcore import reports_production

    report = reports_production.production_cost(_erp().engine, date_from.date() if date_from else None,
                                                date_to.date() if date_to else None, work_order_id=work_order)
    if as_json:
        output.print_json(report)
        return
    rows: list[tuple[object, ...]] = [(r.number, r.sku, r.status, r.quantity, r.planned_cost, r.actual_cost,
                                       r.cost_difference, r.received_cost, r.variance, r.in_wip) for r in report.rows]
    t = report.totals
    rows.append(("[bold]total[/]", "", "", "", t.planned_cost, t.actual_cost, t.cost_difference, t.received_cost,
                 t.variance, t.in_wip))
    output.stdout().print(output.table("Production cost", ["work order", "item", "status", "quantity", "planned",
                                                           "actual", "difference", "received", "variance",
                                                           "in wip"], rows))


def register(app: typer.Typer) -> None:
    """Mount `production` on the root app."""
    app.add_typer(production_app, name="production")
