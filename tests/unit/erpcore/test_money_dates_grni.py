"""Amount bounds, cents, discounts, business dates, periods and GRNI clearing: the rules issue 11's leaks broke,
as plain functions, no database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from erpcore.domain import dates, periods
from erpcore.domain.matching import MatchLine, ReceivedLine, Tolerances, grni_to_clear, three_way_match
from erpcore.domain.money import MAX_AMOUNT, line_amounts, require_cents, to_cents
from erpcore.domain.status import PurchaseOrderStatus, purchase_order_status
from erpcore.exceptions import PeriodClosed, ValidationFailed

TODAY = dt.date(2026, 12, 3)


# --- amounts ----------------------------------------------------------------------------------------------

def test_a_discount_reduces_the_net_and_the_tax_follows() -> None:
    assert line_amounts(D(3), D("19.59"), D("0.20"), D(10)) == (D("52.89"), D("10.58"))
    assert line_amounts(D(3), D("19.59"), D("0.20")) == (D("58.77"), D("11.75"))


def test_a_full_discount_is_zero_not_negative() -> None:
    assert line_amounts(D(2), D("5.00"), D("0.20"), D(100)) == (D("0.00"), D("0.00"))


def test_a_line_past_the_largest_amount_is_refused_before_any_arithmetic_overflows() -> None:
    with pytest.raises(ValidationFailed, match="largest amount"):
        line_amounts(D("9999999999"), D("9999999999"), D("0.20"))
    net, _ = line_amounts(D(1), MAX_AMOUNT, D(0))
    assert net == MAX_AMOUNT


@pytest.mark.parametrize("amount", [D("0.01"), D("10"), D("123.40"), D("0")])
def test_cash_in_cents_passes_unchanged(amount: D) -> None:
    assert require_cents("receipt", amount) == amount


@pytest.mark.parametrize("amount", [D("0.005"), D("0.0001"), D("10.001")])
def test_cash_below_the_minor_unit_is_refused_never_rounded(amount: D) -> None:
    with pytest.raises(ValidationFailed, match="minor unit"):
        require_cents("receipt", amount)


def test_cash_past_the_largest_amount_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="largest amount"):
        require_cents("payment", MAX_AMOUNT + 1)


# --- dates --------------------------------------------------------------------------------------------------

WINDOW = dates.DateWindow(days_back=3660, days_ahead=366)


@pytest.mark.parametrize("day", [TODAY, TODAY - dt.timedelta(days=3660), TODAY + dt.timedelta(days=366)])
def test_dates_inside_the_window_pass(day: dt.date) -> None:
    assert WINDOW.check("order_date", day, TODAY) == day


@pytest.mark.parametrize("day", [dt.date(1, 1, 1), dt.date(9999, 12, 31), TODAY - dt.timedelta(days=3661),
                                 TODAY + dt.timedelta(days=367)])
def test_dates_outside_the_window_are_refused_naming_the_field(day: dt.date) -> None:
    with pytest.raises(ValidationFailed, match=r"order_date .* outside the business date window"):
        WINDOW.check("order_date", day, TODAY)


def test_the_window_never_runs_past_the_calendar() -> None:
    late = dt.date(9999, 12, 1)
    assert dates.DateWindow(0, 366).check("d", late, late) == late


def test_a_document_is_not_dated_before_its_source() -> None:
    assert dates.not_before("ship_date", TODAY, "the order", TODAY) == TODAY
    with pytest.raises(ValidationFailed, match="ship_date 2026-12-02 is before the order 2026-12-03"):
        dates.not_before("ship_date", TODAY - dt.timedelta(days=1), "the order", TODAY)


@pytest.mark.parametrize(("terms", "due"), [(0, TODAY), (None, TODAY + dt.timedelta(days=30)),
                                            (45, TODAY + dt.timedelta(days=45))])
def test_payment_terms_of_zero_are_due_that_day_and_none_take_the_default(terms: int | None, due: dt.date) -> None:
    assert dates.due_date(TODAY, terms) == due


def test_a_due_date_past_the_calendar_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="past the calendar"):
        dates.due_date(dt.date(9999, 12, 31), 30)


# --- fiscal periods -----------------------------------------------------------------------------------------

def test_periods_are_calendar_months() -> None:
    assert periods.parse("2024-02") == (2024, 2)
    assert periods.bounds((2024, 2)) == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    assert periods.bounds((2026, 12)) == (dt.date(2026, 12, 1), dt.date(2026, 12, 31))
    assert periods.name(periods.of(TODAY)) == "2026-12"


@pytest.mark.parametrize("text", ["2026-13", "2026-00", "26-11", "nov", "2026/11", "0000-01", ""])
def test_bad_period_names_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(ValidationFailed, match="YYYY-MM"):
        periods.parse(text)


def test_a_posting_in_a_closed_period_is_refused_naming_the_first_one() -> None:
    periods.require_open([TODAY], {(2026, 11)})
    with pytest.raises(PeriodClosed, match="fiscal period 2026-10 is closed"):
        periods.require_open([dt.date(2026, 11, 5), dt.date(2026, 10, 31)], {(2026, 11), (2026, 10)})


# --- three-way match and GRNI ---------------------------------------------------------------------------------

def _line(qty: str, before: str = "0", received: str = "4") -> MatchLine:
    return MatchLine(1, "SKU", D("50.00"), D(received), D(before), D(qty), D("50.00"))


def test_two_lines_of_one_invoice_on_one_po_line_are_matched_together() -> None:
    result = three_way_match([_line("4"), _line("4")], Tolerances())
    assert not result.matched
    assert "line 1 (SKU): invoiced 4 but only 0 received and not yet invoiced" in result.reason
    assert three_way_match([_line("2"), _line("2")], Tolerances()).matched


def test_earlier_invoices_and_earlier_lines_add_up() -> None:
    assert not three_way_match([_line("2", before="2"), _line("1", before="2")], Tolerances()).matched
    assert three_way_match([_line("1", before="2"), _line("1", before="2")], Tolerances()).matched


def test_grni_of_unit_by_unit_receipts_clears_exactly_when_billed_at_once() -> None:
    received = ReceivedLine(D(10), D("10.10"), D(0), D(0))  # ten receipts of 1.01
    assert grni_to_clear(received, D(10)) == D("10.10")


def test_grni_billed_in_two_halves_clears_to_exactly_the_received_value() -> None:
    line = ReceivedLine(D(10), D("10.05"), D(0), D(0))
    first = grni_to_clear(line, D(5))
    second = grni_to_clear(ReceivedLine(D(10), D("10.05"), D(5), first), D(5))
    assert (first, second) == (D("5.03"), D("5.02"))
    assert first + second == D("10.05")


def test_grni_of_over_billing_within_tolerance_stops_at_the_received_value() -> None:
    line = ReceivedLine(D(10), D("50.00"), D(8), D("40.00"))
    assert grni_to_clear(line, D(3)) == D("10.00")  # 11 billed of 10 received: the rest is price variance


def test_grni_of_a_line_received_but_not_yet_valued_is_zero() -> None:
    assert grni_to_clear(ReceivedLine(D(0), D(0), D(0), D(0)), D(1)) == D(0)


@pytest.mark.parametrize("parts", [[1] * 7, [3, 4], [2, 2, 3], [6, 1]])
def test_grni_clears_to_zero_however_a_line_is_billed(parts: list[int]) -> None:
    value = to_cents(D(7) * D("1.005"))
    line = ReceivedLine(D(7), value, D(0), D(0))
    for qty in parts:
        amount = grni_to_clear(line, D(qty))
        line = ReceivedLine(line.qty_received, line.value_received, line.qty_billed + qty,
                            line.grni_cleared + amount)
    assert line.grni_cleared == value


def test_a_po_closes_only_when_fully_billed_and_nothing_is_unpaid() -> None:
    lines = [(D(10), D(10), D(10))]
    assert purchase_order_status(lines, fully_paid=True) is PurchaseOrderStatus.CLOSED
    assert purchase_order_status(lines, fully_paid=False) is PurchaseOrderStatus.RECEIVED
    assert purchase_order_status([(D(10), D(10), D(9))], fully_paid=True) is PurchaseOrderStatus.RECEIVED
