"""The arithmetic of reports without a database: periods and the one before, ageing buckets, comparisons."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from erpcore.domain import reporting
from erpcore.domain.reporting import Span
from erpcore.exceptions import InvalidInput
from erpcore.reporting import catalogue
from erpcore.reporting.ledger import TrialBalance, TrialBalanceRow, TrialBalanceTotals, with_previous
from erpcore.reporting.statements import StatementLine, compare_lines
from opskit.exitcodes import ExitCode

TODAY = dt.date(2026, 12, 3)
d = dt.date


def test_a_period_is_a_month_a_range_or_this_month() -> None:
    assert reporting.span_of("2026-11", None, None, TODAY) == Span(d(2026, 11, 1), d(2026, 11, 30))
    assert reporting.span_of("2024-02", None, None, TODAY) == Span(d(2024, 2, 1), d(2024, 2, 29))
    assert reporting.span_of(None, d(2026, 1, 5), d(2026, 3, 2), TODAY) == Span(d(2026, 1, 5), d(2026, 3, 2))
    assert reporting.span_of(None, None, None, TODAY) == Span(d(2026, 12, 1), d(2026, 12, 31))


@pytest.mark.parametrize(("period", "date_from", "date_to", "says"), [
    ("2026-13", None, None, "not a month written YYYY-MM"),
    ("26-11", None, None, "not a month written YYYY-MM"),
    ("2026-11", d(2026, 1, 1), None, "not both"),
    (None, d(2026, 1, 1), None, "needs both ends"),
    (None, d(2026, 2, 1), d(2026, 1, 31), r"ends \(2026-01-31\) before it starts"),
])
def test_a_bad_period_is_a_usage_error_saying_what_to_give(period: str | None, date_from: dt.date | None,
                                                          date_to: dt.date | None, says: str) -> None:
    with pytest.raises(InvalidInput, match=says) as raised:
        reporting.span_of(period, date_from, date_to, TODAY)
    assert raised.value.exit_code == ExitCode.USAGE and raised.value.status_code == 422


@pytest.mark.parametrize(("span", "before"), [
    (Span(d(2026, 11, 1), d(2026, 11, 30)), Span(d(2026, 10, 1), d(2026, 10, 31))),
    (Span(d(2026, 3, 1), d(2026, 3, 31)), Span(d(2026, 2, 1), d(2026, 2, 28))),
    (Span(d(2026, 1, 1), d(2026, 1, 31)), Span(d(2025, 12, 1), d(2025, 12, 31))),
    (Span(d(2026, 1, 1), d(2026, 3, 31)), Span(d(2025, 10, 1), d(2025, 12, 31))),  # a quarter: the one before
    (Span(d(2026, 1, 1), d(2026, 12, 31)), Span(d(2025, 1, 1), d(2025, 12, 31))),  # a year: the year before
    (Span(d(2026, 3, 10), d(2026, 3, 19)), Span(d(2026, 2, 28), d(2026, 3, 9))),  # ten days: ten days before
])
def test_the_previous_period_is_as_many_months_or_days_just_before(span: Span, before: Span) -> None:
    assert reporting.previous(span) == before
    assert before.date_to + dt.timedelta(days=1) == span.date_from


def test_buckets_parse_label_and_refuse_what_does_not_rise() -> None:
    assert reporting.parse_buckets(None) == (30, 60, 90)
    assert reporting.parse_buckets("15, 45") == (15, 45)
    assert reporting.bucket_labels((30, 60, 90)) == ["current", "1-30", "31-60", "61-90", "over 90"]
    assert reporting.bucket_labels((7,)) == ["current", "1-7", "over 7"]
    for bad, says in (("60,30", "must rise"), ("30,30", "must rise"), ("0,30", "must rise"),
                      ("30,x", "whole numbers"), ("30;60", "whole numbers"), (",".join(["1"] * 13), "at most 12"),
                      ("99999999", "must rise")):
        with pytest.raises(InvalidInput, match=says):
            reporting.parse_buckets(bad)


@pytest.mark.parametrize(("days", "bucket"), [(-5, 0), (0, 0), (1, 1), (30, 1), (31, 2), (60, 2), (61, 3),
                                              (90, 3), (91, 4), (4000, 4)])
def test_days_overdue_fall_in_the_first_bucket_they_fit(days: int, bucket: int) -> None:
    assert reporting.bucket_of(days, (30, 60, 90)) == bucket


def test_ageing_spreads_open_amounts_by_due_date_and_keeps_their_sum() -> None:
    as_of = d(2026, 11, 30)
    items = [(d(2026, 12, 15), D("100.00")), (as_of, D("5.00")), (d(2026, 11, 29), D("10.00")),
             (d(2026, 10, 1), D("20.00")), (d(2026, 9, 1), D("-3.50")), (d(2025, 1, 1), D("7.25"))]
    amounts = reporting.age(items, as_of, (30, 60, 90))
    assert amounts == [D("105.00"), D("10.00"), D("20.00"), D("-3.50"), D("7.25")]
    assert sum(amounts) == sum(a for _, a in items)
    assert reporting.age([], as_of, (30,)) == [D("0.00")] * 3 and str(reporting.age([], as_of, (30,))[0]) == "0.00"


def test_align_pairs_rows_by_key_in_order_with_none_where_a_side_lacks_one() -> None:
    now = [("1000", 5), ("4000", 7)]
    before = [("1000", 3), ("2000", 9)]
    assert reporting.align(now, before, lambda r: r[0]) == [
        ("1000", ("1000", 5), ("1000", 3)), ("2000", None, ("2000", 9)), ("4000", ("4000", 7), None)]


def _line(section: str, code: str, amount: str) -> StatementLine:
    return StatementLine(section, int(code), code, f"account {code}", D(amount))


def test_a_comparison_shows_each_account_of_either_period_with_its_change() -> None:
    now = [_line("asset", "1000", "150.00"), _line("income", "4000", "80.00")]
    before = [_line("asset", "1000", "100.00"), _line("liability", "2000", "40.00")]
    lines = compare_lines(now, before)
    assert [(ln.code, ln.amount, ln.previous, ln.change) for ln in lines] == [
        ("1000", D("150.00"), D("100.00"), D("50.00")),
        ("2000", D("0.00"), D("40.00"), D("-40.00")),  # only last period: zero now, in its section's place
        ("4000", D("80.00"), D("0.00"), D("80.00"))]
    assert {ln.code: ln.previous for ln in lines if ln.previous} == {ln.code: ln.amount for ln in before}


def _tb(rows: list[tuple[str, str, str]], start: dt.date) -> TrialBalance:
    accounts = [TrialBalanceRow(int(code), code, code, "asset", D(0), D(dr), D(cr), D(dr) - D(cr))
                for code, dr, cr in rows]
    totals = TrialBalanceTotals(D(0), sum((r.debit for r in accounts), D(0)), sum((r.credit for r in accounts), D(0)),
                                sum((r.closing for r in accounts), D(0)))
    return TrialBalance(start, start + dt.timedelta(days=29), accounts, totals)


def test_a_compared_trial_balance_carries_the_previous_figures_per_account_and_in_total() -> None:
    now = _tb([("1000", "10", "0"), ("2000", "0", "10")], d(2026, 11, 1))
    before = _tb([("1000", "4", "0"), ("3000", "0", "4")], d(2026, 10, 1))
    compared = with_previous(now, before)
    assert [(r.code, r.debit, r.previous_debit, r.previous_credit, r.previous_closing) for r in compared.accounts] == [
        ("1000", D(10), D(4), D(0), D(4)), ("2000", D(0), D(0), D(0), D(0)), ("3000", D(0), D(0), D(4), D(-4))]
    assert compared.previous_totals == before.totals and compared.totals == now.totals
    assert (compared.previous_from, compared.previous_to) == (before.date_from, before.date_to)
    sheet = compared.sheet()
    assert [c.key for c in sheet.columns][-3:] == ["previous_debit", "previous_credit", "previous_closing"]
    assert sheet.total is not None and sheet.total[0] == "total" and sheet.total[-3:] == (D(4), D(4), D(0))


def test_the_catalogue_refuses_inputs_a_report_does_not_take_and_defaults_the_rest() -> None:
    bs = catalogue.get("balance-sheet")
    with pytest.raises(InvalidInput, match="balance-sheet takes no as-of date and no ageing buckets; it takes period or date range, comparison"):
        catalogue.query_for(bs, TODAY, buckets="30", as_of=TODAY)
    assert catalogue.query_for(bs, TODAY).span == Span(d(2026, 12, 1), d(2026, 12, 31))
    ageing = catalogue.query_for(catalogue.get("ar-ageing"), TODAY, buckets="10,20")
    assert (ageing.as_of, ageing.buckets, ageing.span) == (TODAY, (10, 20), None)
    with pytest.raises(InvalidInput, match="no report 'payroll'"):
        catalogue.get("payroll")
    with pytest.raises(ValueError, match="already registered"):
        catalogue.register(bs)
    assert {"trial-balance", "balance-sheet", "profit-and-loss", "stock-valuation", "ar-ageing", "ap-ageing",
            "sales"} <= set(catalogue.REPORTS)
