"""Customer and supplier returns through the services on both engines, postings compared to the cent with
figures worked out by hand in the comments."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from erpcore.check import run_check
from erpcore.exceptions import InvalidTransition, ValidationFailed
from erpcore.models import (
    Account,
    CustomerInvoice,
    CustomerReturn,
    JournalEntry,
    JournalLine,
    PurchaseOrderLine,
    StockBalance,
    SupplierReturn,
)
from erpcore.services import purchasing, returns, sales, views
from erpcore.services.bootstrap import Erp
from erpcore.services.purchasing import InvoiceLineInput, PurchaseLineInput
from erpcore.services.sales import OrderLineInput
from tests.factories import World, make_world, stock_up


def balances(erp: Erp) -> dict[str, D]:
    """Debit minus credit per account role, to the cent."""
    with erp.engine.connect() as conn:
        rows = conn.execute(select(Account.role, func.sum(JournalLine.debit - JournalLine.credit))
                            .join(Account, Account.id == JournalLine.account_id).group_by(Account.role)).all()
    return {role: D(str(total)).quantize(D("0.01")) for role, total in rows if role}


def entry(erp: Erp, source_type: str, source_id: int) -> set[tuple[str, D, D]]:
    with erp.engine.connect() as conn:
        rows = conn.execute(select(Account.role, JournalLine.debit, JournalLine.credit)
                            .join(Account, Account.id == JournalLine.account_id)
                            .join(JournalEntry, JournalEntry.id == JournalLine.journal_entry_id)
                            .where(JournalEntry.source_type == source_type, JournalEntry.source_id == source_id)).all()
    return {(r.role, D(str(r.debit)).quantize(D("0.01")), D(str(r.credit)).quantize(D("0.01"))) for r in rows}


def stock(erp: Erp, w: World) -> tuple[D, D]:
    with erp.engine.connect() as conn:
        b = conn.execute(select(StockBalance.on_hand, StockBalance.value_amount)
                         .where(StockBalance.item_id == w.item_id)).one()
    return D(str(b.on_hand)).quantize(D("0.0001")), D(str(b.value_amount)).quantize(D("0.01"))


def count(erp: Erp, model: type) -> int:
    with erp.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def shipped_and_invoiced(erp: Erp, w: World, qty: str, price: str | None = None) -> tuple[int, int, int]:
    """(sales order, shipment, shipment line) of an order of `qty` shipped and invoiced."""
    line = OrderLineInput(w.item_id, D(qty), D(price) if price else None)
    so = sales.create_sales_order(erp.uow(), w.customer_id, [line]).id
    sales.approve_sales_order(erp.uow(), so)
    shipment = sales.ship_sales_order(erp.uow(), so)
    sales.invoice_sales_order(erp.uow(), so)
    return so, shipment.id, int(shipment.lines[0]["id"])


def test_a_customer_return_brings_stock_back_at_its_shipped_cost_and_credits_the_invoice(erp: Erp) -> None:
    w = make_world(erp)  # price 10.00, cost 6.00, VAT 20%
    stock_up(w, "10")  # 10 at 6.00: inventory 60.00
    _, shipment, line = shipped_and_invoiced(erp, w, "4")  # COGS 24.00; invoice 40.00 + 8.00 VAT
    doc = returns.create_customer_return(erp.uow(), shipment, {line: D(3)})
    # 3 of 4 back: cost 24.00 * 3/4 = 18.00; credit 3 * 10.00 = 30.00 + 6.00 VAT = 36.00
    assert (D(doc.row["cost_amount"]), D(doc.row["net_amount"]), D(doc.row["tax_amount"]),
            D(doc.row["total_amount"])) == (D("18.00"), D("30.00"), D("6.00"), D("36.00"))
    assert entry(erp, "customer_return", doc.id) == {
        ("inventory", D("18.00"), D(0)), ("cost_of_goods_sold", D(0), D("18.00")),
        ("revenue", D("30.00"), D(0)), ("output_vat", D("6.00"), D(0)), ("accounts_receivable", D(0), D("36.00"))}
    ledger = balances(erp)
    assert ledger["accounts_receivable"] == D("12.00")  # 48.00 - 36.00
    assert ledger["revenue"] == D("-10.00")  # 40.00 - 30.00
    assert ledger["output_vat"] == D("-2.00")  # 8.00 - 6.00
    assert ledger["cost_of_goods_sold"] == D("6.00")  # 24.00 - 18.00
    assert ledger["inventory"] == D("54.00")  # 60.00 - 24.00 + 18.00
    assert stock(erp, w) == (D(9), D("54.00"))
    last = returns.create_customer_return(erp.uow(), shipment)  # what is left: 1, at 24.00 - 18.00
    assert (D(last.row["cost_amount"]), D(last.row["total_amount"])) == (D("6.00"), D("12.00"))
    assert balances(erp)["accounts_receivable"] == 0
    assert run_check(erp.engine).ok


def test_credits_of_a_line_add_up_to_its_invoice_to_the_cent(erp: Erp) -> None:
    w = make_world(erp, cost="2.00")  # sold at 3.33: above its cost, as the price control wants
    stock_up(w, "3")
    _, shipment, line = shipped_and_invoiced(erp, w, "3", price="3.33")  # net 9.99, VAT 1.998 -> 2.00
    first = returns.create_customer_return(erp.uow(), shipment, {line: D(1)})
    assert (D(first.row["net_amount"]), D(first.row["tax_amount"])) == (D("3.33"), D("0.67"))
    rest = returns.create_customer_return(erp.uow(), shipment, {line: D(2)})
    assert (D(rest.row["net_amount"]), D(rest.row["tax_amount"])) == (D("6.66"), D("1.33"))  # the rest, not 1.34
    ledger = balances(erp)
    assert (ledger["revenue"], ledger["output_vat"], ledger["accounts_receivable"]) == (0, 0, 0)
    assert run_check(erp.engine).ok


def test_an_over_return_is_refused_and_writes_nothing(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "5")
    _, shipment, line = shipped_and_invoiced(erp, w, "2")
    returns.create_customer_return(erp.uow(), shipment, {line: D(1)})
    before = (count(erp, CustomerReturn), count(erp, JournalEntry), stock(erp, w))
    with pytest.raises(ValidationFailed, match=r"over-return: line \d+ moved 2, 1 already returned, 2 requested"):
        returns.create_customer_return(erp.uow(), shipment, {line: D(2)})
    assert (count(erp, CustomerReturn), count(erp, JournalEntry), stock(erp, w)) == before


def test_uninvoiced_goods_are_not_returned_and_a_credited_invoice_is_not_cancelled(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "5")
    so = sales.create_sales_order(erp.uow(), w.customer_id, [OrderLineInput(w.item_id, D(2))]).id
    sales.approve_sales_order(erp.uow(), so)
    shipment = sales.ship_sales_order(erp.uow(), so)
    with pytest.raises(ValidationFailed, match="cancel the uninvoiced shipment instead"):
        returns.create_customer_return(erp.uow(), shipment.id)
    invoice = sales.invoice_sales_order(erp.uow(), so).id
    returns.create_customer_return(erp.uow(), shipment.id, {int(shipment.lines[0]["id"]): D(1)})
    with pytest.raises(InvalidTransition, match="has a credit note for returned goods"):
        sales.cancel_customer_invoice(erp.uow(), invoice)
    assert run_check(erp.engine).ok


def _received(erp: Erp, w: World, qty: str, price: str = "6.00") -> tuple[int, int, int]:
    """(purchase order, goods receipt, receipt line) of `qty` bought and received at `price`."""
    po = purchasing.create_purchase_order(erp.uow(), w.supplier_id, [
        PurchaseLineInput(w.item_id, D(qty), D(price))]).id
    purchasing.approve_purchase_order(erp.uow(), po)
    gr = purchasing.receive_goods(erp.uow(), po)
    return po, gr.id, int(gr.row["lines"][0]["id"])


def _received_qty(erp: Erp, po: int) -> D:
    with erp.engine.connect() as conn:
        return D(str(conn.scalar(select(PurchaseOrderLine.qty_received)
                                 .where(PurchaseOrderLine.purchase_order_id == po)))).quantize(D("0.0001"))


def test_unbilled_goods_sent_back_clear_grni_and_leave_the_received_quantity(erp: Erp) -> None:
    w = make_world(erp)
    po, gr, line = _received(erp, w, "10")  # inventory 60.00 / GRNI 60.00
    doc = returns.create_supplier_return(erp.uow(), gr, {line: D(4)})
    assert entry(erp, "supplier_return", doc.id) == {
        ("inventory", D(0), D("24.00")), ("goods_received_not_invoiced", D("24.00"), D(0))}
    assert _received_qty(erp, po) == D(6)
    # the supplier bills what was kept: 6 at 6.00 matches and clears the GRNI left, 36.00
    inv = purchasing.register_supplier_invoice(erp.uow(), po, "S-1", [InvoiceLineInput(1, D(6), D("6.00"))])
    assert inv.status == "matched"
    ledger = balances(erp)
    assert ledger["goods_received_not_invoiced"] == 0
    assert ledger["inventory"] == D("36.00")
    assert ledger["accounts_payable"] == D("-43.20")
    assert run_check(erp.engine).ok


def test_billed_goods_sent_back_go_on_a_debit_note_at_the_billed_price(erp: Erp) -> None:
    w = make_world(erp)
    po, gr, line = _received(erp, w, "10")
    # billed at 6.10 (within the 2% price tolerance): net 61.00, VAT 12.20; GRNI 60.00 clears, 1.00 variance
    invoice = purchasing.register_supplier_invoice(erp.uow(), po, "S-2", [InvoiceLineInput(1, D(10), D("6.10"))]).id
    doc = returns.create_supplier_return(erp.uow(), gr, {line: D(4)})
    # 4 back: stock 24.00 at receipt cost; debit note 61.00 * 4/10 = 24.40 + 4.88 VAT = 29.28; variance -0.40
    assert entry(erp, "supplier_return", doc.id) == {
        ("inventory", D(0), D("24.00")), ("accounts_payable", D("29.28"), D(0)), ("input_vat", D(0), D("4.88")),
        ("price_variance", D(0), D("0.40"))}
    ledger = balances(erp)
    assert ledger["accounts_payable"] == D("-43.92")  # 73.20 - 29.28
    assert ledger["price_variance"] == D("0.60")
    assert ledger["input_vat"] == D("7.32")
    assert ledger["inventory"] == D("36.00")
    assert _received_qty(erp, po) == D(10)  # billed goods stay received; the debit note settles them
    with pytest.raises(InvalidTransition, match="went back on a debit note"):
        purchasing.cancel_supplier_invoice(erp.uow(), invoice)
    assert run_check(erp.engine).ok


def test_a_supplier_return_of_part_billed_goods_splits_grni_and_debit_note(erp: Erp) -> None:
    w = make_world(erp)
    po, gr, line = _received(erp, w, "10")
    purchasing.register_supplier_invoice(erp.uow(), po, "S-3", [InvoiceLineInput(1, D(6), D("6.00"))])
    doc = returns.create_supplier_return(erp.uow(), gr, {line: D(8)})
    # 4 unbilled go back first (GRNI 24.00), 4 billed on a debit note 24.00 + 4.80 VAT; stock 48.00 leaves
    assert entry(erp, "supplier_return", doc.id) == {
        ("inventory", D(0), D("48.00")), ("goods_received_not_invoiced", D("24.00"), D(0)),
        ("accounts_payable", D("28.80"), D(0)), ("input_vat", D(0), D("4.80"))}
    assert _received_qty(erp, po) == D(6)
    with pytest.raises(ValidationFailed, match="over-return"):
        returns.create_supplier_return(erp.uow(), gr, {line: D(3)})
    assert count(erp, SupplierReturn) == 1
    assert run_check(erp.engine).ok


@pytest.mark.pg
def test_concurrent_returns_of_one_line_never_exceed_it(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10")
    _, shipment, line = shipped_and_invoiced(erp, w, "5")

    def back(_: int) -> str:
        try:
            returns.create_customer_return(erp.uow(), shipment, {line: D(2)})
        except ValidationFailed:
            return "refused"
        return "returned"

    with ThreadPoolExecutor(max_workers=6) as pool:
        outcomes = list(pool.map(back, range(6)))
    assert outcomes.count("returned") == 2  # 2 + 2 of 5; a third 2 would make 6
    assert outcomes.count("refused") == 4
    assert run_check(erp.engine).ok


def test_a_credit_note_settles_its_unpaid_invoice_and_refunds_a_paid_one(erp: Erp) -> None:
    w = make_world(erp)
    stock_up(w, "10")
    so, shipment, line = shipped_and_invoiced(erp, w, "4")  # invoice 48.00
    with erp.engine.connect() as conn:
        invoice = int(conn.scalar(select(CustomerInvoice.id).where(CustomerInvoice.sales_order_id == so)) or 0)
    credit = returns.create_customer_return(erp.uow(), shipment, {line: D(1)})  # 12.00 off the unpaid invoice
    assert (D(credit.row["refund_amount"]), credit.row["customer_invoice_id"]) == (0, invoice)
    receipt = sales.record_customer_receipt(erp.uow(), invoice)  # the rest: 36.00, and the invoice is paid
    assert D(receipt.row["amount"]) == D("36.00")
    refund = returns.create_customer_return(erp.uow(), shipment, {line: D(1)})  # paid already: 12.00 paid back
    assert D(refund.row["refund_amount"]) == D("12.00")
    assert entry(erp, "customer_return", refund.id) == {
        ("inventory", D("6.00"), D(0)), ("cost_of_goods_sold", D(0), D("6.00")), ("revenue", D("10.00"), D(0)),
        ("output_vat", D("2.00"), D(0)), ("bank", D(0), D("12.00"))}
    ledger = balances(erp)
    assert (ledger["accounts_receivable"], ledger["bank"]) == (0, D("24.00"))  # 36.00 in, 12.00 back
    with erp.engine.connect() as conn:
        assert views.customer_invoice(conn, invoice)["status"] == "paid"
        assert views.sales_order(conn, so)["status"] == "closed"
    assert run_check(erp.engine).ok


def test_a_debit_note_settles_its_unpaid_invoice_and_the_supplier_refunds_a_paid_one(erp: Erp) -> None:
    w = make_world(erp)
    po, gr, line = _received(erp, w, "10")
    invoice = purchasing.register_supplier_invoice(erp.uow(), po, "S-9", [InvoiceLineInput(1, D(10), D("6.00"))]).id
    returns.create_supplier_return(erp.uow(), gr, {line: D(2)})  # 12.00 + 2.40 off the unpaid 72.00
    payment = purchasing.pay_supplier_invoice(erp.uow(), invoice)
    assert D(payment.row["amount"]) == D("57.60")
    back = returns.create_supplier_return(erp.uow(), gr, {line: D(1)})  # paid already: the supplier refunds 7.20
    assert D(back.row["refund_amount"]) == D("7.20") and back.row["supplier_invoice_id"] == invoice
    assert entry(erp, "supplier_return", back.id) == {
        ("inventory", D(0), D("6.00")), ("bank", D("7.20"), D(0)), ("input_vat", D(0), D("1.20"))}
    ledger = balances(erp)
    assert (ledger["accounts_payable"], ledger["bank"]) == (0, D("-50.40"))  # 57.60 paid, 7.20 back
    assert run_check(erp.engine).ok
