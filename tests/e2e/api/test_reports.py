"""Reports over HTTP and the CLI: the trial balance sums to zero, stock valuation equals the inventory account."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from erpcore.cli_api import register
from erpcore.models import StockBalance
from tests.dbhelpers import sqlite_engine
from tests.e2e.api.conftest import Api
from tests.factories import uid


def _history(api: Api) -> dict[str, int]:
    """Receive 10 in January, sell and ship 4 in February, invoice and collect in March."""
    w = api.world()
    po = api.ok(api.post("/purchase-orders", {"supplier_id": w["supplier_id"], "order_date": "2024-01-05", "lines": [
        {"item_id": w["item_id"], "quantity": "10", "unit_price": "6.00"}]}), 201)
    api.ok(api.post(f"/purchase-orders/{po['id']}/approve"))
    api.ok(api.post(f"/purchase-orders/{po['id']}/receive", {"receipt_date": "2024-01-10"}), 201)
    api.ok(api.post("/supplier-invoices", {"purchase_order_id": po["id"], "supplier_ref": uid("S"),
                                           "invoice_date": "2024-01-12",
                                           "lines": [{"line_no": 1, "quantity": "10", "unit_price": "6.00"}]}), 201)
    so = api.ok(api.post("/sales-orders", {"customer_id": w["customer_id"], "order_date": "2024-02-01", "lines": [
        {"item_id": w["item_id"], "quantity": "4"}]}), 201)
    api.ok(api.post(f"/sales-orders/{so['id']}/approve"))
    api.ok(api.post(f"/sales-orders/{so['id']}/ship", {"ship_date": "2024-02-10"}), 201)
    inv = api.ok(api.post(f"/sales-orders/{so['id']}/invoice", {"invoice_date": "2024-03-01"}), 201)
    api.ok(api.post(f"/customer-invoices/{inv['id']}/receipts", {"receipt_date": "2024-03-15"}), 201)
    return w


def _account(tb: dict[str, Any], code: str) -> dict[str, Decimal]:
    row = next(r for r in tb["accounts"] if r["code"] == code)
    return {k: Decimal(row[k]) for k in ("opening", "debit", "credit", "closing")}


def test_trial_balance_for_a_period_sums_to_zero(api: Api) -> None:
    _history(api)
    feb = api.ok(api.get("/reports/trial-balance", role="finance", date_from="2024-02-01", date_to="2024-02-29"))
    assert {k: Decimal(v) for k, v in feb["totals"].items()} == {
        "opening": 0, "debit": Decimal(24), "credit": Decimal(24), "closing": 0}
    assert _account(feb, "1200") == {"opening": Decimal(60), "debit": 0, "credit": Decimal(24),
                                     "closing": Decimal(36)}  # inventory: received in January, shipped in February
    year = api.ok(api.get("/reports/trial-balance", role="finance", date_from="2024-01-01", date_to="2024-12-31"))
    assert Decimal(year["totals"]["closing"]) == 0 and year["totals"]["debit"] == year["totals"]["credit"]
    assert _account(year, "1000")["closing"] == Decimal(48)  # bank: 48 collected, the supplier not yet paid
    bad = api.get("/reports/trial-balance", role="finance", date_from="2024-02-01", date_to="2024-01-01")
    assert bad.status_code == 422


def test_stock_valuation_equals_the_stock_value_and_the_inventory_account(api: Api) -> None:
    w = _history(api)
    sv = api.ok(api.get("/reports/stock-valuation", role="warehouse"))
    [row] = [r for r in sv["rows"] if r["item_id"] == w["item_id"]]
    assert (row["on_hand"], row["reserved"], row["value"], row["average_cost"]) == ("6.0000", "0.0000", "36.00",
                                                                                      "6.0000")
    with api.erp.session_factory() as s:
        stock_value = s.scalar(select(func.sum(StockBalance.value_amount)))
    assert Decimal(sv["total_value"]) == Decimal(str(stock_value)).quantize(Decimal("0.01"))
    tb = api.ok(api.get("/reports/trial-balance", date_from="2000-01-01", date_to="2100-01-01"))
    assert _account(tb, "1200")["closing"] == Decimal(sv["total_value"])
    assert api.ok(api.get("/reports/stock-valuation", warehouse_id=999))["rows"] == []


def test_cli_token_and_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    with sqlite_engine(tmp_path) as engine:
        monkeypatch.setenv("ERPOPS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        made = runner.invoke(app, ["token", "create", "--role", "finance", "--name", "books"])
        assert made.exit_code == 0, made.output
        token = made.stdout.strip().splitlines()[-1]
        assert token.startswith("erp_")
        listed = json.loads(runner.invoke(app, ["token", "list", "--json"]).stdout)
        assert [(t["name"], t["role"]) for t in listed] == [("books", "finance")] and token not in str(listed)
        tb = runner.invoke(app, ["report", "trial-balance", "--from", "2024-01-01", "--to", "2024-12-31", "--json"])
        assert tb.exit_code == 0, tb.output
        assert json.loads(tb.stdout)["totals"]["closing"] == "0.00"
        table = runner.invoke(app, ["report", "trial-balance", "--from", "2024-01-01", "--to", "2024-12-31"])
        assert "Trial balance" in table.stdout and "total" in table.stdout
        sv = runner.invoke(app, ["report", "stock-valuation", "--json"])
        assert json.loads(sv.stdout)["rows"] == []
        assert "Stock valuation" in runner.invoke(app, ["report", "stock-valuation"]).stdout
        assert runner.invoke(app, ["token", "create", "--role", "root", "--name", "x"]).exit_code != 0
        assert runner.invoke(app, ["token", "revoke", str(listed[0]["id"])]).exit_code == 0
        assert json.loads(runner.invoke(app, ["token", "list", "--json"]).stdout)[0]["revoked_at"]
