"""`erpops returns ...` and `erpops cancel ...` as a user runs them, on SQLite and PostgreSQL: JSON on stdout,
refusals as one `error:` line with their exit code and nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from erpcore.cli_returns import Kind
from erpcore.db import make_engine
from erpcore.models import CustomerReturn, GoodsReceipt, GoodsReceiptLine, JournalEntry
from erpcore.services import purchasing, sales
from erpcore.services.bootstrap import Erp, bootstrap
from erpcore.services.cancels import CANCELS
from erpcore.services.sales import OrderLineInput
from opskit.exitcodes import ExitCode
from tests.e2e.erpops.test_core_json import database_url, erpops, run  # noqa: F401  (the fixture, reused)
from tests.factories import make_world, stock_up


@pytest.fixture
def erp(database_url: str) -> Iterator[Erp]:  # noqa: F811
    assert run(["db", "upgrade"]).returncode == ExitCode.OK
    engine = make_engine(database_url)
    yield bootstrap(engine)
    engine.dispose()


def _rows(erp: Erp) -> tuple[int, int]:
    with erp.engine.connect() as conn:
        return (int(conn.scalar(select(func.count()).select_from(CustomerReturn)) or 0),
                int(conn.scalar(select(func.count()).select_from(JournalEntry)) or 0))


def test_customer_and_supplier_returns_from_the_shell(erp: Erp) -> None:
    w = make_world(erp)
    po = stock_up(w, "10")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(4))]).id
    sales.approve_sales_order(erp.uow(), so)
    shipment = sales.ship_sales_order(erp.uow(), so)
    sales.invoice_sales_order(erp.uow(), so)
    line = shipment.lines[0]["id"]
    made = erpops(["returns", "customer", "create", shipment.row["number"], "--line", f"{line}=3"])
    assert made["status"] == "posted" and D(made["total_amount"]) == D("36.00")  # 3 x 10.00 + 20% VAT
    assert [r["id"] for r in erpops(["returns", "customer", "list", "--shipment", str(shipment.id)])] == [made["id"]]
    before = _rows(erp)
    over = run(["returns", "customer", "create", shipment.row["number"], "--line", f"{line}=2"])
    assert over.returncode == ExitCode.FAILED and over.stdout == ""
    assert over.stderr.startswith("error: over-return: line") and over.stderr.count("\n") == 1
    bad = run(["returns", "customer", "create", shipment.row["number"], "--line", "three"])
    assert bad.returncode == ExitCode.USAGE and "LINE_ID=QTY" in bad.stderr and "Traceback" not in bad.stderr
    assert _rows(erp) == before
    with erp.engine.connect() as conn:
        gr = conn.execute(select(GoodsReceipt.id, GoodsReceipt.number).where(GoodsReceipt.purchase_order_id == po)).one()
    back = erpops(["returns", "supplier", "create", gr.number, "--line",
                   f"{_receipt_line(erp, gr.id)}=2"])
    assert D(back["grni_amount"]) == D("12.00") and back["lines"][0]["qty_unbilled"].startswith("2")
    assert [r["number"] for r in erpops(["returns", "supplier", "list"])] == [back["number"]]


def _receipt_line(erp: Erp, receipt_id: int) -> int:
    with erp.engine.connect() as conn:
        return int(conn.scalar(select(GoodsReceiptLine.id).where(GoodsReceiptLine.goods_receipt_id == receipt_id)))


def test_cancel_by_kind_and_number_writes_the_reversal(erp: Erp) -> None:
    w = make_world(erp)
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [
        purchasing.PurchaseLineInput(w.item_id, D(3))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    gr = purchasing.receive_goods(erp.uow(), po)
    done = erpops(["cancel", "goods-receipt", gr.row["number"]])
    assert done["status"] == "cancelled" and done["number"] == gr.row["number"]
    assert erpops(["check"])["ok"] is True
    again = run(["cancel", "goods-receipt", gr.row["number"]])
    assert again.returncode == ExitCode.FAILED and "is cancelled" in again.stderr
    req = purchasing.create_requisition(erp.uow(), w.item_id, D(2))
    assert erpops(["cancel", "requisition", str(req.id)])["status"] == "cancelled"
    undated = run(["cancel", "requisition", "PR-1999-0000001", "--date", "2026-01-01"])
    assert undated.returncode == ExitCode.FAILED and "does not exist" in undated.stderr
    unknown = run(["cancel", "invoice-of-nothing", "X"])
    assert unknown.returncode == ExitCode.USAGE


def test_every_cancel_kind_is_offered_on_the_command_line() -> None:
    assert {k.value for k in Kind} == set(CANCELS)
