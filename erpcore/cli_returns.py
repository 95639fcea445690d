"""`erpops returns customer|supplier create|list` and `erpops cancel KIND REF`: returns and cancels from the shell,
as a named actor, through the same services as the API."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any

import typer

from opskit import output

returns_app = typer.Typer(help="Customer returns (with their credit notes) and supplier returns (with their debit "
                               "notes).\n\nExample: erpops returns customer create SHP-2026-0000042 --line 17=2",
                          no_args_is_help=True)
customer_app = typer.Typer(help="Goods a customer sends back from a shipment: stock in at its shipped cost, a "
                                "credit note at the invoiced price.\n\n"
                                "Example: erpops returns customer list --json", no_args_is_help=True)
supplier_app = typer.Typer(help="Goods sent back to a supplier from a goods receipt: stock out at receipt cost, "
                                "GRNI or a debit note.\n\nExample: erpops returns supplier list --json",
                           no_args_is_help=True)
returns_app.add_typer(customer_app, name="customer")
returns_app.add_typer(supplier_app, name="supplier")

LINES = typer.Option("--line", help="LINE_ID=QTY: a source line and the quantity to return (repeatable); "
                                    "none: all that is still returnable.")
DATE = typer.Option("--date", formats=["%Y-%m-%d"], help="The return's date (default: today).")
LIMIT = typer.Option("--limit", min=1, max=10_000, help="Show at most this many, newest first.")


def parse_lines(values: list[str] | None) -> dict[int, Decimal] | None:
    """`["17=2", "18=0.5"]` -> {17: 2, 18: 0.5}; a line given twice is summed; anything else is a usage error."""
    if not values:
        return None
    wanted: dict[int, Decimal] = {}
    for value in values:
        line, _, qty = value.partition("=")
        try:
            line_id, quantity = int(line), Decimal(qty)
        except (ValueError, InvalidOperation):
            raise typer.BadParameter(f"{value!r} is not LINE_ID=QTY (e.g. 17=2)", param_hint="--line") from None
        if not quantity.is_finite():
            raise typer.BadParameter(f"{value!r}: the quantity must be a number", param_hint="--line")
        wanted[line_id] = wanted.get(line_id, Decimal(0)) + quantity
    return wanted


def _day(value: dt.datetime | None) -> dt.date | None:
    return value.date() if value else None


def _line(row: dict[str, Any]) -> str:
    amount = row.get("total_amount")
    return f"{row['number']}: {row['status']}, {len(row.get('lines', ()))} line(s), note total {amount}"


def _table(title: str, source: str) -> Any:
    columns = ["id", "number", "date", source, "status", "net", "tax", "total"]
    return lambda rows: output.table(title, columns, [
        (r["id"], r["number"], r["return_date"], r[source], r["status"], r["net_amount"], r["tax_amount"],
         r["total_amount"]) for r in rows])


@customer_app.command("create")
def customer_create(shipment: Annotated[str, typer.Argument(help="The shipment's number or id.")],
                    line: Annotated[list[str] | None, LINES] = None,
                    date: Annotated[dt.datetime | None, DATE] = None, as_json: bool = output.JsonFlag) -> None:
    """Take goods back from a shipment: at most what each line shipped and was invoiced, less earlier returns.

    Example: erpops returns customer create SHP-2026-0000042 --line 17=2 --json
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.models import Shipment
    from erpcore.services import returns
    from erpcore.services.bootstrap import bootstrap
    from erpcore.services.cancels import resolve_on

    erp = bootstrap(open_database())
    shipment_id = resolve_on(erp.engine, Shipment, "shipment", shipment)
    doc = returns.create_customer_return(erp.uow(cli_actor()), shipment_id, parse_lines(line), _day(date))
    output.render(doc.row, as_json, _line)


@customer_app.command("list")
def customer_list(shipment: Annotated[str | None, typer.Option("--shipment", help="Only this shipment's "
                                                               "(number or id).")] = None,
                  limit: Annotated[int, LIMIT] = 50, as_json: bool = output.JsonFlag) -> None:
    """Customer returns, newest first.

    Example: erpops returns customer list --shipment SHP-2026-0000042 --json
    """
    from erpcore.migrate import open_database
    from erpcore.models import CustomerReturn, Shipment
    from erpcore.services import returns
    from erpcore.services.cancels import resolve_on

    engine = open_database()
    shipment_id = None if shipment is None else resolve_on(engine, Shipment, "shipment", shipment)
    rows = returns.recent(engine, CustomerReturn, limit, shipment_id=shipment_id)
    output.render(rows, as_json, _table("Customer returns", "shipment_id"))


@supplier_app.command("create")
def supplier_create(receipt: Annotated[str, typer.Argument(help="The goods receipt's number or id.")],
                    line: Annotated[list[str] | None, LINES] = None,
                    date: Annotated[dt.datetime | None, DATE] = None, as_json: bool = output.JsonFlag) -> None:
    """Send goods back from a goods receipt: at most what each line received, less earlier returns.

    Example: erpops returns supplier create GRN-2026-0000012 --line 31=4 --json
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.models import GoodsReceipt
    from erpcore.services import returns
    from erpcore.services.bootstrap import bootstrap
    from erpcore.services.cancels import resolve_on

    erp = bootstrap(open_database())
    receipt_id = resolve_on(erp.engine, GoodsReceipt, "goods receipt", receipt)
    doc = returns.create_supplier_return(erp.uow(cli_actor()), receipt_id, parse_lines(line), _day(date))
    output.render(doc.row, as_json, _line)


@supplier_app.command("list")
def supplier_list(receipt: Annotated[str | None, typer.Option("--receipt", help="Only this goods receipt's "
                                                              "(number or id).")] = None,
                  limit: Annotated[int, LIMIT] = 50, as_json: bool = output.JsonFlag) -> None:
    """Supplier returns, newest first.

    Example: erpops returns supplier list --receipt GRN-2026-0000012 --json
    """
    from erpcore.migrate import open_database
    from erpcore.models import GoodsReceipt, SupplierReturn
    from erpcore.services import returns
    from erpcore.services.cancels import resolve_on

    engine = open_database()
    receipt_id = None if receipt is None else resolve_on(engine, GoodsReceipt, "goods receipt", receipt)
    rows = returns.recent(engine, SupplierReturn, limit, goods_receipt_id=receipt_id)
    output.render(rows, as_json, _table("Supplier returns", "goods_receipt_id"))


class Kind(StrEnum):
    SALES_ORDER = "sales-order"
    SHIPMENT = "shipment"
    CUSTOMER_INVOICE = "customer-invoice"
    CUSTOMER_RECEIPT = "customer-receipt"
    REQUISITION = "requisition"
    PURCHASE_ORDER = "purchase-order"
    GOODS_RECEIPT = "goods-receipt"
    SUPPLIER_INVOICE = "supplier-invoice"
    SUPPLIER_PAYMENT = "supplier-payment"


def cancel(kind: Annotated[Kind, typer.Argument(help="What to cancel.")],
           ref: Annotated[str, typer.Argument(help="The document's number or id.", metavar="REF")],
           date: Annotated[dt.datetime | None, typer.Option("--date", formats=["%Y-%m-%d"],
                                                            help="The reversal's date (default: today).")] = None,
           as_json: bool = output.JsonFlag) -> None:
    """Cancel a document; a posted one gets the reversal entry that nets it to zero.

    Example: erpops cancel goods-receipt GRN-2026-0000012 --json
    """
    from erpcore.access import cli_actor
    from erpcore.migrate import open_database
    from erpcore.services import cancels
    from erpcore.services.bootstrap import bootstrap

    doc = cancels.cancel(bootstrap(open_database()), cli_actor(), kind.value, ref, _day(date))
    output.render(doc.row, as_json, lambda row: f"{row.get('number', doc.id)}: {row['status']}")


def register(app: typer.Typer) -> None:
    app.add_typer(returns_app, name="returns")
    app.command("cancel")(cancel)
