"""Seeding is deterministic, refuses a database with data, and leaves one the services keep working on."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from erpcore.exceptions import Conflict
from erpcore.models import Item, SalesOrder, StockBalance
from erpcore.services import purchasing, sales
from erpcore.services.bootstrap import bootstrap
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.dbhelpers import engine_for
from tests.factories import reserved
from tests.integration.seed.conftest import small_seed

END = dt.date(2025, 3, 31)


def _fingerprint(engine: Engine) -> tuple[object, ...]:
    from erpcore.check import integrity_summary

    with engine.connect() as conn:
        orders = conn.execute(text("SELECT number, status, net_amount, tax_amount FROM sales_order "
                                   "ORDER BY id")).all()
    return integrity_summary(engine), [tuple(str(v) for v in row) for row in orders]


def test_same_seed_gives_identical_history(backend: str, tmp_path: Path) -> None:
    with engine_for(backend, tmp_path) as first, engine_for(backend, tmp_path) as second:
        a, b = small_seed(first, END), small_seed(second, END)
        assert a.rows == b.rows and a.open_documents == b.open_documents and a.capital == b.capital
        assert _fingerprint(first) == _fingerprint(second)


def test_another_seed_gives_other_history(engine: Engine, tmp_path: Path) -> None:
    first = small_seed(engine, END)
    with engine_for("sqlite", tmp_path) as other:
        assert small_seed(other, END, seed_value=7).rows != first.rows


def test_refuses_a_database_that_holds_data(engine: Engine) -> None:
    small_seed(engine, END)
    with pytest.raises(Conflict, match="already holds data"):
        small_seed(engine, END)


def test_services_keep_working_on_seeded_history(engine: Engine) -> None:
    from erpcore.check import run_check

    small_seed(engine)
    erp = bootstrap(engine)
    with erp.session_factory() as s:
        item, supplier = s.execute(select(Item.id, Item.default_supplier_id).order_by(Item.id).limit(1)).one()
        on_hand = s.scalar(select(StockBalance.on_hand).where(StockBalance.item_id == item))
        last_order = s.scalar(select(SalesOrder.number).order_by(SalesOrder.id.desc()).limit(1))
    assert on_hand is not None and on_hand >= 2 and supplier is not None
    so = sales.create_sales_order(erp.uow(), 1, [OrderLineInput(item, Decimal(2))]).id
    with erp.session_factory() as s:
        number = s.scalar(select(SalesOrder.number).where(SalesOrder.id == so))
    assert number is not None and last_order is not None and number > last_order
    assert reserved(sales.approve_sales_order(erp.uow(), so)) == {1: Decimal(2)}
    sales.ship_sales_order(erp.uow(), so)
    sales.record_customer_receipt(erp.uow(), sales.invoice_sales_order(erp.uow(), so).id)
    po = purchasing.create_purchase_order(erp.uow(), supplier, [PurchaseLineInput(item, Decimal(5))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    purchasing.receive_goods(erp.uow(), po)
    with erp.session_factory() as s:
        price = s.scalar(select(Item.standard_cost).where(Item.id == item))
    assert price is not None
    bill = purchasing.register_supplier_invoice(erp.uow(), po, "AFTER-SEED-1", [InvoiceLineInput(1, Decimal(5), price)])
    assert bill.status == "matched"
    purchasing.pay_supplier_invoice(erp.uow(), bill.id)
    report = run_check(engine)
    assert report.ok, [v.message for v in report.violations]
