"""The arithmetic of reports, without I/O: which dates a period covers and which one precedes it, ageing
buckets, and how a report's rows line up with the previous period's for a comparison.

Bad input (a period that is not a month, buckets that do not rise) is refused with `InvalidInput`: HTTP 422,
exit 2, one sentence saying what to give instead.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from erpcore.domain import periods
from erpcore.exceptions import InvalidInput, ValidationFailed

DEFAULT_BUCKETS = (30, 60, 90)
ZERO_CENTS = Decimal("0.00")  # a sum of amounts that had none still reads as money
MAX_BUCKETS = 12
MAX_BUCKET_DAYS = 36_600  # a hundred years overdue is as far as a bucket may reach


@dataclass(frozen=True)
class Span:
    """The days a report covers, both ends included."""

    date_from: dt.date
    date_to: dt.date

    @property
    def days(self) -> int:
        return (self.date_to - self.date_from).days + 1

    @property
    def whole_months(self) -> int:
        """How many calendar months the span covers exactly, or 0 when it does not start and end on month ends."""
        if self.date_from.day != 1 or self.date_to.day != _month_end(self.date_to).day:
            return 0
        return (self.date_to.year - self.date_from.year) * 12 + self.date_to.month - self.date_from.month + 1

    @property
    def label(self) -> str:
        if self.whole_months == 1:
            return periods.name(periods.of(self.date_from))
        return f"{self.date_from.isoformat()}..{self.date_to.isoformat()}"


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def span_of(period: str | None, date_from: dt.date | None, date_to: dt.date | None, today: dt.date) -> Span:
    """The span a report is asked for: a month (`2026-11`), or `date_from`..`date_to`; neither is this month."""
    if period is not None and (date_from is not None or date_to is not None):
        raise InvalidInput("give either a period (YYYY-MM) or a date range (from and to), not both")
    if period is not None:
        try:
            return Span(*periods.bounds(periods.parse(period)))
        except ValidationFailed as exc:
            raise InvalidInput(exc.message) from None
    if date_from is None and date_to is None:
        return Span(*periods.bounds(periods.of(today)))
    if date_from is None or date_to is None:
        raise InvalidInput("a date range needs both ends: give from and to (YYYY-MM-DD), or a period (YYYY-MM)")
    if date_to < date_from:
        raise InvalidInput(f"the period ends ({date_to}) before it starts ({date_from})")
    return Span(date_from, date_to)


def previous(span: Span) -> Span:
    """The span just before: as many whole months back when it is whole months, else as many days back."""
    months = span.whole_months
    if months:
        end = span.date_from - dt.timedelta(days=1)
        start = end.replace(day=1)
        for _ in range(months - 1):
            start = (start - dt.timedelta(days=1)).replace(day=1)
        return Span(start, end)
    return Span(span.date_from - dt.timedelta(days=span.days), span.date_from - dt.timedelta(days=1))


def parse_buckets(text: str | None) -> tuple[int, ...]:
    """`30,60,90` -> (30, 60, 90): days overdue where each bucket ends; they must be whole days and rise."""
    if text is None or not text.strip():
        return DEFAULT_BUCKETS
    try:
        limits = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise InvalidInput(f"buckets {text!r} are not whole numbers of days separated by commas "
                           "(e.g. 30,60,90)") from None
    if len(limits) > MAX_BUCKETS:
        raise InvalidInput(f"at most {MAX_BUCKETS} buckets, got {len(limits)}")
    if limits[0] < 1 or limits[-1] > MAX_BUCKET_DAYS or any(b <= a for a, b in itertools.pairwise(limits)):
        raise InvalidInput(f"buckets {text!r} must rise from 1 to at most {MAX_BUCKET_DAYS} days "
                           "(e.g. 30,60,90)")
    return limits


def bucket_labels(limits: Sequence[int]) -> list[str]:
    """Headers for `limits` (30, 60): current, 1-30, 31-60, over 60."""
    labels, low = ["current"], 1
    for limit in limits:
        labels.append(f"{low}-{limit}")
        low = limit + 1
    return [*labels, f"over {limits[-1]}" if limits else "overdue"]


def bucket_of(days_overdue: int, limits: Sequence[int]) -> int:
    """The bucket's index: 0 when not yet due, then the first limit the days fall within, else the last."""
    if days_overdue <= 0:
        return 0
    for index, limit in enumerate(limits, start=1):
        if days_overdue <= limit:
            return index
    return len(limits) + 1


def age(items: Sequence[tuple[dt.date, Decimal]], as_of: dt.date, limits: Sequence[int]) -> list[Decimal]:
    """Open amounts by due date spread over the buckets of `limits` as of a day; they sum to the items' total."""
    amounts = [ZERO_CENTS] * (len(limits) + 2)
    for due, amount in items:
        amounts[bucket_of((as_of - due).days, limits)] += amount
    return amounts


K = TypeVar("K", bound=Hashable)
R = TypeVar("R")


def align(current: Sequence[R], earlier: Sequence[R], key: Callable[[R], K],
          order: Callable[[K], object] | None = None) -> list[tuple[K, R | None, R | None]]:
    """Rows of a period beside the previous period's, matched by key: a row only one side has is paired with None.

    Keys come in `order` (the key itself by default), so a row the current period lacks still has its place.
    """
    now = {key(r): r for r in current}
    before = {key(r): r for r in earlier}
    keys = sorted(now.keys() | before.keys(), key=order or (lambda k: k))  # type: ignore[arg-type]
    return [(k, now.get(k), before.get(k)) for k in keys]
