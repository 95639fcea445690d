"""Business dates: inside a window around today, and never before the document they follow or reverse."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from erpcore.exceptions import ValidationFailed


@dataclass(frozen=True)
class DateWindow:
    """How far from today a business date may be (`[documents]` in the configuration)."""

    days_back: int = 3660
    days_ahead: int = 366

    def check(self, what: str, day: dt.date, today: dt.date | None = None) -> dt.date:
        """`day` if it lies in the window around `today`; else 422 naming the field and the window."""
        today = today or dt.date.today()
        first = today - dt.timedelta(days=self.days_back)
        last = today + dt.timedelta(days=min(self.days_ahead, (dt.date.max - today).days))
        if not first <= day <= last:
            raise ValidationFailed(f"{what} {day.isoformat()} is outside the business date window "
                                   f"{first.isoformat()} .. {last.isoformat()}")
        return day


def not_before(what: str, day: dt.date, source: str, source_day: dt.date) -> dt.date:
    """A document (or reversal) is dated on or after the document it follows (or reverses); else 422."""
    if day < source_day:
        raise ValidationFailed(f"{what} {day.isoformat()} is before {source} {source_day.isoformat()}")
    return day


def due_date(invoice_date: dt.date, terms_days: int | None, default_terms: int = 30) -> dt.date:
    """The due date of an invoice: its date plus the party's payment terms (0 days: due that day; None: the
    default terms); a due date past the calendar is refused (422)."""
    days = default_terms if terms_days is None else terms_days
    try:
        return invoice_date + dt.timedelta(days=days)
    except OverflowError:
        raise ValidationFailed(f"invoice date {invoice_date.isoformat()} plus {days} days of payment terms is "
                               "past the calendar") from None
