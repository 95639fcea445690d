"""Every report reconciles with the ledger on a seeded history, on both engines: the balance sheet balances
with the result, the P&L is the trial balance's income less expense, ageing totals are the control accounts
at their date, stock valuation is the inventory account, sales are the revenue account's movement, and a
comparison's columns are the previous period's report run alone."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from erpcore.domain import closing, periods, reporting
from erpcore.domain.accounts import Role
from erpcore.domain.postings import PostingLine
from erpcore.domain.reporting import Span
from erpcore.models import (
    Account,
    CustomerInvoice,
    CustomerReturn,
    JournalEntry,
    JournalLine,
    SupplierInvoice,
    SupplierReturn,
)
from erpcore.reporting import ageing, catalogue, ledger, sales, statements, stock
from erpcore.seed import SeedSummary, seed
from erpcore.services.bootstrap import Erp
from erpcore.services.steps import journal
from tests.dbhelpers import engine_for

DAYS = 90
CENT = Decimal("0.01")


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def history(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[
        tuple[Engine, SeedSummary]]:
    """90 days of seeded history at 4 orders a day, ending today, once per backend for the module."""
    with engine_for(str(request.param), tmp_path_factory.mktemp("reports")) as engine:
        yield engine, seed(engine, 1, 4, 20261203, days=DAYS)


def _months(summary: SeedSummary) -> list[Span]:
    found, month = [], (summary.start.year, summary.start.month)
    while month <= (summary.end.year, summary.end.month):
        found.append(Span(*periods.bounds(month)))
        month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    return found


def _spans(summary: SeedSummary) -> list[Span]:
    """Every month of the history, the whole history, and a stretch across month ends."""
    return [*_months(summary), Span(summary.start, summary.end),
            Span(summary.start + dt.timedelta(days=20), summary.end - dt.timedelta(days=25))]


def _accounts(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        return {r.code: (r.type, r.role) for r in conn.execute(select(Account.code, Account.type, Account.role))}


def _closing(engine: Engine, day: dt.date) -> dict[str, Decimal]:
    """Each account's balance (debit - credit) at the end of `day`, read from the trial balance."""
    tb = ledger.trial_balance(engine, closing.fiscal_year_start(day), day)
    return {r.code: r.closing for r in tb.accounts}


def _code(engine: Engine, role: str) -> str:
    return next(code for code, (_type, r) in _accounts(engine).items() if r == role)


def test_the_balance_sheet_balances_and_each_line_is_the_trial_balance_closing(
        history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    types = _accounts(engine)
    for span in _spans(summary):
        bs = statements.balance_sheet(engine, span)
        t = bs.totals
        assert t.assets == t.liabilities + t.equity + t.result == t.liabilities_equity_and_result, span
        assert t.assets > 0 and t.liabilities > 0 and t.equity > 0
        tb = _closing(engine, span.date_to)
        natural = {ln.code: ln.amount if ln.section == "asset" else -ln.amount for ln in bs.lines}
        assert natural == {code: v for code, v in tb.items() if v and types[code][0] in ("asset", "liability",
                                                                                         "equity")}
        assert t.result == -sum(v for code, v in tb.items() if types[code][0] in ("income", "expense"))


def test_the_profit_and_loss_result_is_the_trial_balance_income_less_expense(
        history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    types = _accounts(engine)
    for span in _spans(summary):
        pl = statements.profit_and_loss(engine, span)
        tb = ledger.trial_balance(engine, span.date_from, span.date_to)
        income = sum(r.credit - r.debit for r in tb.accounts if types[r.code][0] == "income")
        expense = sum(r.debit - r.credit for r in tb.accounts if types[r.code][0] == "expense")
        assert (pl.totals.income, pl.totals.expense, pl.totals.result) == (income, expense, income - expense), span
        assert pl.totals.income > 0 and pl.totals.expense > 0
        assert sum(ln.amount for ln in pl.lines if ln.section == "income") == income


def _as_of_days(summary: SeedSummary) -> list[dt.date]:
    return [span.date_to for span in _months(summary)[:-1]] + [summary.start + dt.timedelta(days=45), summary.end]


def _party_balances(engine: Engine, role: str, party: str, as_of: dt.date, sign: int) -> dict[int, Decimal]:
    column = getattr(JournalLine, party)
    stmt = (select(column, JournalLine.debit - JournalLine.credit).join(Account, Account.id == JournalLine.account_id)
            .join(JournalEntry, JournalEntry.id == JournalLine.journal_entry_id)
            .where(Account.role == role, JournalEntry.entry_date <= as_of))
    found: dict[int, Decimal] = defaultdict(Decimal)
    with engine.connect() as conn:
        for who, amount in conn.execute(stmt):
            found[who] += sign * Decimal(str(amount))
    return {k: v.quantize(CENT) for k, v in found.items() if v.quantize(CENT)}


@pytest.mark.parametrize(("side", "sign"), [(ageing.AR, 1), (ageing.AP, -1)])
def test_ageing_totals_are_the_control_account_at_the_date_per_party_and_in_total(
        history: tuple[Engine, SeedSummary], side: ageing.Side, sign: int) -> None:
    engine, summary = history
    code = _code(engine, side.role.value)
    for as_of in _as_of_days(summary):
        for limits in ((30, 60, 90), (7, 14)):
            aged = ageing.ageing(engine, side, as_of, limits)
            assert aged.total == sign * _closing(engine, as_of)[code], (as_of, limits)
            assert aged.total > 0 and sum(aged.bucket_totals) == aged.total == sum(r.total for r in aged.rows)
            assert {r.party_id: r.total for r in aged.rows} == _party_balances(
                engine, side.role.value, side.party.key, as_of, sign)
            for item in aged.items:
                assert item.days_overdue == (as_of - item.due_date).days
                assert item.bucket == aged.bucket_labels[reporting.bucket_of(item.days_overdue, limits)]
                assert item.document_date <= as_of
    later = ageing.ageing(engine, side, summary.end + dt.timedelta(days=400), (30, 60, 90))
    assert later.bucket_totals[:4] == [0, 0, 0, 0] and later.bucket_totals[4] == later.total == aged.total
    if side is ageing.AR:  # the seeded customers pay late; the company pays its suppliers on time
        assert sum(ageing.ageing(engine, side, summary.end, (30, 60, 90)).bucket_totals[1:]) > 0


def test_ageing_today_is_the_open_invoices(history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    with engine.connect() as conn:
        ar = conn.execute(select(CustomerInvoice.number, CustomerInvoice.total_amount - CustomerInvoice.amount_paid)
                          .where(CustomerInvoice.status != "cancelled")).all()
        ap = conn.execute(select(SupplierInvoice.number, SupplierInvoice.total_amount - SupplierInvoice.amount_paid)
                          .where(SupplierInvoice.status.in_(["matched", "paid"]))).all()
        # a credit or debit note settles part of its invoice outside amount_paid: those invoices are compared
        # through the control accounts (test_ageing_totals_are_the_control_account_at_the_date_per_party_and_in_total), the rest one by one here
        noted = set(conn.execute(select(CustomerInvoice.number).join(
            CustomerReturn, CustomerReturn.customer_invoice_id == CustomerInvoice.id)).scalars()) | set(
            conn.execute(select(SupplierInvoice.number).join(
                SupplierReturn, SupplierReturn.supplier_invoice_id == SupplierInvoice.id)).scalars())
    for side, documents in ((ageing.AR, ar), (ageing.AP, ap)):
        aged = ageing.ageing(engine, side, summary.end, (30, 60, 90))
        open_docs = {n: Decimal(str(a)).quantize(CENT) for n, a in documents
                     if Decimal(str(a)).quantize(CENT) and n not in noted}
        invoices = {n for n, _ in documents} - noted  # notes that refunded more than was owed age on their own
        assert {i.document: i.amount for i in aged.items if i.document in invoices} == open_docs


def test_stock_valuation_total_is_the_inventory_account(history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    sv = stock.stock_valuation(engine)
    assert sv.total_value > 0
    assert sv.total_value == _closing(engine, summary.end)[_code(engine, "inventory")]
    assert sum(r.value for r in sv.rows) == sv.total_value


def test_sales_by_month_sum_to_the_revenue_account_movement(history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    revenue = _code(engine, "revenue")
    for span in _spans(summary):
        report = sales.sales(engine, span)
        tb = {r.code: r for r in ledger.trial_balance(engine, span.date_from, span.date_to).accounts}
        assert report.total == tb[revenue].credit - tb[revenue].debit > 0, span
        assert sum(r.net_sales for r in report.rows) == report.total == sum(m.net_sales for m in report.months)
        assert {m.month for m in report.months} <= {periods.name((d.year, d.month))
                                                     for d in (span.date_from, span.date_to)} | {
            s.label for s in _months(summary)}
        assert all(r.customer_id is not None and r.customer_code for r in report.rows)
    whole = sales.sales(engine, Span(summary.start, summary.end))
    assert [m.month for m in whole.months] == [s.label for s in _months(summary)]


def test_comparison_columns_are_the_previous_period_run_alone(history: tuple[Engine, SeedSummary]) -> None:
    engine, summary = history
    for span in [*_months(summary)[1:], Span(summary.start + dt.timedelta(days=40), summary.end)]:
        before = reporting.previous(span)
        query = catalogue.ReportQuery(span=span, compare=True)
        alone = catalogue.ReportQuery(span=before)

        bs = statements.balance_sheet_report(engine, query)
        bs_alone = statements.balance_sheet_report(engine, alone)
        assert {ln.code: ln.previous for ln in bs.lines if ln.previous} == {ln.code: ln.amount for ln in bs_alone.lines}
        assert bs.previous_totals == bs_alone.totals and bs.previous_date == before.date_to
        assert {ln.code: ln.amount for ln in bs.lines if ln.amount} == {
            ln.code: ln.amount for ln in statements.balance_sheet(engine, span).lines}
        assert all(ln.change == ln.amount - (ln.previous or 0) for ln in bs.lines)

        pl = statements.profit_and_loss_report(engine, query)
        pl_alone = statements.profit_and_loss_report(engine, alone)
        assert {ln.code: ln.previous for ln in pl.lines if ln.previous} == {ln.code: ln.amount for ln in pl_alone.lines}
        assert pl.previous_totals == pl_alone.totals

        tb = ledger.trial_balance_report(engine, query)
        tb_alone = ledger.trial_balance_report(engine, alone)
        assert {r.code: (r.previous_debit, r.previous_credit, r.previous_closing) for r in tb.accounts} == {
            r.code: (r.debit, r.credit, r.closing) for r in tb_alone.accounts}
        assert tb.previous_totals == tb_alone.totals
        sheet = tb.sheet()
        assert sheet.total is not None and sheet.total[-3:] == (tb_alone.totals.debit, tb_alone.totals.credit,
                                                                tb_alone.totals.closing)


def test_a_posting_of_another_source_is_its_own_open_item_and_its_customers_sale(erp: Erp) -> None:
    """A later chain's document (here a credit note: Dr revenue / Cr receivables) ages on its own date and
    lowers its customer's sales, and every total still reconciles."""
    engine = erp.engine
    summary = seed(engine, 1, 2, 20261201, days=20)
    with engine.connect() as conn:
        customer_id = conn.execute(select(JournalLine.customer_id).where(JournalLine.customer_id.is_not(None))
                                   .limit(1)).scalar_one()
    day = summary.end - dt.timedelta(days=3)
    with erp.uow() as uow:
        journal.post(uow, day, "credit_note", 777, "post", "Credit note 777",
                     [PostingLine(Role.REVENUE, debit=Decimal("12.50")),
                      PostingLine(Role.AR, credit=Decimal("12.50"), customer_id=customer_id)])
        uow.commit()
    aged = ageing.ageing(engine, ageing.AR, summary.end, (2, 30))
    [note] = [i for i in aged.items if i.document == "credit_note 777"]
    assert (note.party_id, note.amount, note.due_date, note.days_overdue, note.bucket) == (
        customer_id, Decimal("-12.50"), day, 3, "3-30")
    assert aged.total == _closing(engine, summary.end)[_code(engine, "accounts_receivable")]
    span = Span(day, day)
    report = sales.sales(engine, span)
    customer_sales = sum(r.net_sales for r in report.rows if r.customer_id == customer_id)
    tb = {r.code: r for r in ledger.trial_balance(engine, day, day).accounts}
    assert report.total == tb["4000"].credit - tb["4000"].debit
    with engine.connect() as conn:  # the customer's sales that day: its invoices less the note
        invoiced = conn.execute(select(CustomerInvoice.net_amount).where(
            CustomerInvoice.customer_id == customer_id, CustomerInvoice.invoice_date == day)).scalars().all()
    assert customer_sales == sum((Decimal(str(a)) for a in invoiced), Decimal(0)) - Decimal("12.50")
