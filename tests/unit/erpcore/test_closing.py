"""The year closes at report time: income and expense open each fiscal year at zero, earlier years' result
opens in retained earnings, and the opening balances still sum to zero."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from erpcore.domain import closing
from erpcore.domain.closing import Before
from erpcore.exceptions import ValidationFailed

BANK, REVENUE, COGS, RETAINED = 1, 2, 3, 4
ACCOUNTS = [
    Before(BANK, "asset", D("1000.00"), D("50.00")),  # debit balances
    Before(REVENUE, "income", D("-1500.00"), D("-80.00")),
    Before(COGS, "expense", D("500.00"), D("30.00")),
    Before(RETAINED, "equity", D("0"), D("0")),
]


def test_income_and_expense_open_with_this_year_only_and_the_rest_goes_to_retained_earnings() -> None:
    opening = closing.opening_balances(ACCOUNTS, RETAINED)
    assert opening == {BANK: D("1050.00"), REVENUE: D("-80.00"), COGS: D("30.00"), RETAINED: D("-1000.00")}
    assert sum(opening.values()) == 0


def test_on_the_first_day_of_a_year_income_and_expense_open_at_zero() -> None:
    first_day = [Before(a.account_id, a.type, a.earlier_years + a.this_year, D(0)) for a in ACCOUNTS]
    opening = closing.opening_balances(first_day, RETAINED)
    assert opening[REVENUE] == opening[COGS] == 0
    assert opening[RETAINED] == D("-1050.00")


def test_without_a_retained_earnings_account_nothing_is_invented() -> None:
    assert RETAINED not in closing.opening_balances(ACCOUNTS[:3], None)


def test_a_period_runs_forwards() -> None:
    closing.require_period(dt.date(2025, 12, 1), dt.date(2026, 1, 31))
    with pytest.raises(ValidationFailed, match="ends .* before it starts"):
        closing.require_period(dt.date(2026, 2, 1), dt.date(2026, 1, 1))
