"""The fiscal year closes at report time: income and expense start every fiscal year at zero, and the result of
every earlier year stands in retained earnings. No closing entry is posted; the reports apply this rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from erpcore.domain.accounts import AccountType
from erpcore.domain.money import ZERO
from erpcore.exceptions import ValidationFailed

RESULT_TYPES = frozenset({AccountType.INCOME, AccountType.EXPENSE})


def fiscal_year_start(day: dt.date) -> dt.date:
    """Fiscal years are calendar years."""
    return dt.date(day.year, 1, 1)


def require_period(date_from: dt.date, date_to: dt.date) -> None:
    """A period runs forwards. One spanning a year end shows its income and expense for the whole span (opened
    at the start of `date_from`'s year), as a comparison over several years wants."""
    if date_to < date_from:
        raise ValidationFailed(f"the period ends ({date_to}) before it starts ({date_from})")


@dataclass(frozen=True)
class Before:
    """An account's movements (debit - credit) before the period: in earlier years, and earlier in its year."""

    account_id: int
    type: str
    earlier_years: Decimal
    this_year: Decimal


def opening_balances(accounts: Sequence[Before], retained_earnings_id: int | None) -> dict[int, Decimal]:
    """Opening balance per account: balance-sheet accounts carry everything before the period; income and
    expense only this year's; the earlier years' result (their income and expense) opens in retained earnings."""
    opening: dict[int, Decimal] = {}
    prior_result = ZERO
    for a in accounts:
        if a.type in RESULT_TYPES:
            opening[a.account_id] = a.this_year
            prior_result += a.earlier_years
        else:
            opening[a.account_id] = a.earlier_years + a.this_year
    if retained_earnings_id is not None:
        opening[retained_earnings_id] = opening.get(retained_earnings_id, ZERO) + prior_result
    return opening
