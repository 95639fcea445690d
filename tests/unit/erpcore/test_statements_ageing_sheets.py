"""Balance sheet, profit and loss and ageing built from rows as the database returns them (no database)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D
from types import SimpleNamespace

from erpcore.domain.accounts import AccountType, Role
from erpcore.domain.reporting import Span
from erpcore.reporting.ageing import OpenItem, _item, _summarise
from erpcore.reporting.statements import (
    ProfitAndLoss,
    StatementLine,
    _balance_sheet,
    _pl_totals,
    with_previous_balance_sheet,
    with_previous_profit_and_loss,
)

T = AccountType
YEAR = Span(dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def account(id_: int, code: str, type_: AccountType, earlier: object = 0, year: object = 0,
            role: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(id=id_, code=code, name=f"account {code}", type=type_.value, role=role,
                           earlier=earlier, year=year)


def test_the_balance_sheet_balances_with_earlier_results_in_retained_earnings_and_this_years_as_result() -> None:
    rows = [
        account(1, "1000", T.ASSET, earlier="500.00", year="250.005"),  # rounds half up to 250.01
        account(2, "2000", T.LIABILITY, earlier="-100.00", year="-50.00"),
        account(3, "3100", T.EQUITY, earlier="-200.00", role=Role.RETAINED_EARNINGS.value),
        account(4, "4000", T.INCOME, earlier="-300.00", year="-400.00"),
        account(5, "5000", T.EXPENSE, earlier="100.00", year="199.99"),
    ]
    bs = _balance_sheet(YEAR, rows)
    assert [(ln.code, ln.amount) for ln in bs.lines] == [
        ("1000", D("750.01")), ("2000", D("150.00")),
        ("3100", D("400.00")),  # 200 of its own + 200 earlier result (300 income - 100 expense)
    ]
    assert bs.totals.assets == D("750.01")
    assert bs.totals.result == D("200.01")  # 400 income - 199.99 expense this year
    assert bs.totals.liabilities_equity_and_result == D("150.00") + D("400.00") + D("200.01")
    assert bs.totals.assets == bs.totals.liabilities_equity_and_result


def test_an_account_with_a_zero_balance_is_left_off_the_balance_sheet() -> None:
    rows = [account(1, "1000", T.ASSET, earlier="10.00", year="-10.00"), account(2, "1100", T.ASSET, year="0.004")]
    assert _balance_sheet(YEAR, rows).lines == []


def test_balance_sheet_lines_come_in_section_order_then_code() -> None:
    rows = [account(1, "3000", T.EQUITY, year="-1"), account(2, "2500", T.LIABILITY, year="-1"),
            account(3, "1900", T.ASSET, year="1"), account(4, "1100", T.ASSET, year="1")]
    assert [ln.code for ln in _balance_sheet(YEAR, rows).lines] == ["1100", "1900", "2500", "3000"]


def line(section: AccountType, code: str, amount: str) -> StatementLine:
    return StatementLine(section.value, int(code), code, f"account {code}", D(amount))


def test_profit_and_loss_totals_are_income_less_expense_and_may_be_a_loss() -> None:
    totals = _pl_totals([line(T.INCOME, "4000", "100.10"), line(T.EXPENSE, "5000", "80.05"),
                         line(T.EXPENSE, "5100", "30.10")])
    assert (totals.income, totals.expense, totals.result) == (D("100.10"), D("110.15"), D("-10.05"))


def test_profit_and_loss_sheet_ends_with_its_totals_and_a_compared_one_shows_the_change() -> None:
    now = ProfitAndLoss(YEAR.date_from, YEAR.date_to, [line(T.INCOME, "4000", "100.00")],
                        _pl_totals([line(T.INCOME, "4000", "100.00")]))
    plain = now.sheet()
    assert plain.title == "Profit and loss 2026-03-01 to 2026-03-31"
    assert [c.key for c in plain.columns] == ["section", "code", "name", "amount"]
    assert plain.rows[-3:] == [("", "", "total income", D("100.00")), ("", "", "total expense", D("0.00")),
                               ("", "", "result", D("100.00"))]

    before_lines = [line(T.EXPENSE, "5000", "40.00")]
    before = ProfitAndLoss(dt.date(2026, 2, 1), dt.date(2026, 2, 28), before_lines, _pl_totals(before_lines))
    compared = with_previous_profit_and_loss(now, before).sheet()
    assert compared.title.endswith("(previous: 2026-02-01 to 2026-02-28)")
    assert [c.key for c in compared.columns][-2:] == ["previous", "change"]
    by_code = {r[1]: r for r in compared.rows if r[1]}
    assert by_code["4000"][3:] == (D("100.00"), D("0.00"), D("100.00"))
    assert by_code["5000"][3:] == (D("0.00"), D("40.00"), D("-40.00"))  # gone this period
    assert compared.rows[-1] == ("", "", "result", D("100.00"), D("-40.00"), D("140.00"))


def test_a_compared_balance_sheet_names_the_previous_date_and_its_totals() -> None:
    now = _balance_sheet(YEAR, [account(1, "1000", T.ASSET, year="75"), account(2, "3000", T.EQUITY, year="-75")])
    before = _balance_sheet(Span(dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
                            [account(1, "1000", T.ASSET, year="50"), account(2, "3000", T.EQUITY, year="-50")])
    sheet = with_previous_balance_sheet(now, before).sheet()
    assert sheet.title == "Balance sheet at 2026-03-31 (previous: 2026-02-28)"
    subtotal = {r[2]: r[3:] for r in sheet.rows if not r[1]}
    assert subtotal["total assets"] == (D("75.00"), D("50.00"), D("25.00"))
    assert subtotal["liabilities + equity + result"] == (D("75.00"), D("50.00"), D("25.00"))
    assert now.sheet().title == "Balance sheet at 2026-03-31"


AS_OF = dt.date(2026, 6, 30)


def found(amount: str, due: dt.date | None = None, number: str | None = "INV-1", sign: int = 1,
          party: int | None = 7, other_type: str | None = None, other_id: int | None = None,
          invoice_id: int | None = 1, first: dt.date = dt.date(2026, 5, 1)) -> SimpleNamespace:
    return SimpleNamespace(number=number, invoice_date=dt.date(2026, 4, 1) if number else None, due_date=due,
                           other_type=other_type, other_id=other_id, invoice_id=invoice_id, first_date=first,
                           party_id=party, amount=amount, sign=sign)


def test_an_invoice_ages_from_its_due_date_into_the_bucket_its_days_fall_in() -> None:
    item = _item(found("120.455", due=dt.date(2026, 5, 31)), AS_OF, [30, 60])
    assert (item.document, item.document_date, item.days_overdue, item.bucket) == \
        ("INV-1", dt.date(2026, 4, 1), 30, "1-30")
    assert item.amount == D("120.46")
    assert _item(found("1", due=dt.date(2026, 5, 30)), AS_OF, [30, 60]).bucket == "31-60"
    assert _item(found("1", due=AS_OF), AS_OF, [30, 60]).bucket == "current"
    assert _item(found("1", due=dt.date(2026, 1, 1)), AS_OF, [30, 60]).bucket == "over 60"


def test_a_payables_item_is_credit_positive() -> None:
    assert _item(found("-99.99", due=AS_OF, sign=-1), AS_OF, [30]).amount == D("99.99")


def test_a_line_of_another_source_is_its_own_item_due_on_its_first_date() -> None:
    other = _item(found("5", number=None, other_type="journal_entry", other_id=42, invoice_id=None,
                        first=dt.date(2026, 6, 20)), AS_OF, [30])
    assert (other.document, other.due_date, other.days_overdue, other.bucket) == \
        ("journal_entry 42", dt.date(2026, 6, 20), 10, "1-30")
    # an invoice line whose invoice row is missing is still named after the invoice it belongs to
    orphan = _item(found("5", number=None, invoice_id=9), AS_OF, [30])
    assert orphan.document == "invoice 9"


def open_item(party: int | None, due: dt.date, amount: str) -> OpenItem:
    return OpenItem(party, "doc", due, due, (AS_OF - due).days, "", D(amount))


def test_ageing_sums_per_party_in_code_order_and_the_totals_add_up() -> None:
    items = [open_item(2, dt.date(2026, 6, 10), "10.00"), open_item(1, dt.date(2026, 7, 5), "5.50"),
             open_item(2, dt.date(2026, 3, 1), "7.25"), open_item(None, dt.date(2026, 6, 29), "1.00")]
    parties = {1: ("C-B", "Beta"), 2: ("C-A", "Alpha")}
    ageing = _summarise("receivables", AS_OF, [30, 60], items, parties)
    assert [(r.code, r.name, r.buckets, r.total) for r in ageing.rows] == [
        ("", "(no party)", [D("0.00"), D("1.00"), D("0.00"), D("0.00")], D("1.00")),
        ("C-A", "Alpha", [D("0.00"), D("10.00"), D("0.00"), D("7.25")], D("17.25")),
        ("C-B", "Beta", [D("5.50"), D("0.00"), D("0.00"), D("0.00")], D("5.50")),
    ]
    assert ageing.bucket_labels == ["current", "1-30", "31-60", "over 60"]
    assert ageing.bucket_totals == [D("5.50"), D("11.00"), D("0.00"), D("7.25")]
    assert ageing.total == D("23.75") == sum(i.amount for i in items)


def test_an_unknown_party_shows_as_no_party_and_an_empty_ageing_totals_zero_cents() -> None:
    ageing = _summarise("payables", AS_OF, [30], [open_item(9, AS_OF, "3.00")], {})
    assert (ageing.rows[0].code, ageing.rows[0].name) == ("", "(no party)")
    empty = _summarise("payables", AS_OF, [30], [], {})
    assert empty.rows == [] and empty.bucket_totals == [D("0.00")] * 3 and str(empty.total) == "0.00"


def test_the_ageing_sheet_names_its_party_column_and_ends_with_the_totals_row() -> None:
    items = [open_item(1, dt.date(2026, 6, 1), "4.00")]
    ar = _summarise("receivables", AS_OF, [30], items, {1: ("C1", "One")}).sheet()
    assert ar.title == "AR ageing at 2026-06-30 (days overdue)"
    assert [(c.key, c.header) for c in ar.columns] == [
        ("code", "customer"), ("name", "name"), ("bucket_0", "current"), ("bucket_1", "1-30"),
        ("bucket_2", "over 30"), ("total", "total")]
    assert ar.rows == [("C1", "One", D("0.00"), D("4.00"), D("0.00"), D("4.00"))]
    assert ar.total == ("total", None, D("0.00"), D("4.00"), D("0.00"), D("4.00"))
    ap = _summarise("payables", AS_OF, [30], items, {1: ("S1", "One")}).sheet()
    assert ap.title.startswith("AP ageing") and ap.columns[0].header == "supplier"
