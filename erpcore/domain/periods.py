"""Fiscal periods are calendar months, named YYYY-MM; a posting dated in a closed one is refused."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable

from erpcore.exceptions import PeriodClosed, ValidationFailed

Period = tuple[int, int]  # (year, month)
_NAME = re.compile(r"^(\d{4})-(\d{2})$")


def of(day: dt.date) -> Period:
    return day.year, day.month


def name(period: Period) -> str:
    return f"{period[0]:04d}-{period[1]:02d}"


def parse(text: str) -> Period:
    """`2026-11` -> (2026, 11); anything else is refused (422) with the expected form."""
    found = _NAME.match(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        raise ValidationFailed(f"period {text!r} is not a month written YYYY-MM (e.g. 2026-11)")
    return int(found.group(1)), int(found.group(2))


def bounds(period: Period) -> tuple[dt.date, dt.date]:
    """First and last day of the month."""
    year, month = period
    return dt.date(year, month, 1), dt.date(year, month, calendar.monthrange(year, month)[1])


def require_open(days: Iterable[dt.date], closed: set[Period]) -> None:
    """Refuse (409) a posting with any date in a closed period, naming the first such period."""
    hit = sorted({of(day) for day in days} & closed)
    if hit:
        raise PeriodClosed(f"fiscal period {name(hit[0])} is closed: nothing can be posted into it "
                           "(date the document in an open period, or reopen the period)")
