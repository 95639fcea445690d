"""The in-memory state of the simulated company: master data, stock, ids, numbers and the agenda."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from functools import lru_cache
from typing import Any

from erpcore.crypto import Keyring
from erpcore.domain.accounts import Role
from erpcore.seeding.rows import ID_TABLES
from erpcore.seeding.sinks import Sink
from erpcore.services.numbering import format_number


@dataclass(frozen=True)
class Reference:
    """Reference data the migrations installed: accounts by role, tax codes, the warehouse."""

    accounts: dict[Role, int]
    tax_codes: dict[str, tuple[int, str]]  # code -> (id, rate as stored)
    warehouse_id: int


@dataclass(slots=True)
class ItemSpec:
    id: int
    sku: str
    price: int  # list price, cents
    cost: int  # standard cost, cents
    tax_rate: str
    tax_ppm: int  # tax rate in parts per million
    supplier: int  # index into Context.suppliers
    safety: int
    reorder: int
    mean_qty: float


@dataclass(slots=True)
class Party:
    id: int
    code: str
    terms_days: int
    credit_limit: int  # cents; 0 = none enforced
    pay_delay: float = 0.0  # customers: mean days they pay after the due date
    never_pays: bool = False
    lead_days: int = 0  # suppliers: days from order to delivery


class Agenda(Enum):
    """What is due on a day, in the order a day is worked through."""

    GOODS_RECEIPT = 1
    SUPPLIER_INVOICE = 2
    SUPPLIER_PAYMENT = 3
    CUSTOMER_RECEIPT = 4
    CANCEL = 5
    SHIPMENT = 6
    CUSTOMER_INVOICE = 7


@lru_cache(maxsize=4096)
def iso(ordinal: int) -> str:
    """The ISO date of a day ordinal (cached: the same few thousand days recur)."""
    return dt.date.fromordinal(ordinal).isoformat()


def is_workday(ordinal: int) -> bool:
    """Monday to Friday."""
    return (ordinal - 1) % 7 < 5  # date.fromordinal(1) is a Monday


def workday_on_or_after(ordinal: int) -> int:
    """The day itself, or the Monday after when it falls on a weekend."""
    weekday = (ordinal - 1) % 7
    return ordinal + (7 - weekday if weekday >= 5 else 0)


@dataclass
class Context:
    """Everything the simulation reads and changes, and where its rows go."""

    rng: random.Random
    sink: Sink
    ref: Reference
    start: int  # ordinals
    end: int
    items: list[ItemSpec] = field(default_factory=list)
    customers: list[Party] = field(default_factory=list)
    suppliers: list[Party] = field(default_factory=list)
    on_hand: list[int] = field(default_factory=list)
    reserved: list[int] = field(default_factory=list)
    value: list[int] = field(default_factory=list)  # cents
    open_ar: list[int] = field(default_factory=list)  # per customer, cents
    bank: int = 0
    lowest_bank: int = 0
    day: int = 0
    today: str = ""
    year: int = 0
    ids: dict[str, Callable[[], int]] = field(default_factory=dict)
    numbers: dict[tuple[str, int], int] = field(default_factory=dict)
    agenda: dict[Agenda, defaultdict[int, list[Any]]] = field(default_factory=dict)
    open_docs: dict[str, dict[int, Any]] = field(default_factory=lambda: defaultdict(dict))
    keys: Keyring = field(default_factory=Keyring)  # seals sensitive fields as the services do
    _clock: int = 0
    _worked: set[Agenda] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.ids = {table: itertools.count(1).__next__ for table in ID_TABLES}
        self.agenda = {kind: defaultdict(list) for kind in Agenda}

    def set_day(self, ordinal: int) -> None:
        self.day = ordinal
        self.today = iso(ordinal)
        self.year = int(self.today[:4])
        self._clock = 7 * 3600
        self._worked = set()

    def stamp(self, spread: int = 20) -> str:
        """A timestamp on the current day, moving forward through working hours as documents are written."""
        self._clock = min(self._clock + 1 + self.rng.getrandbits(5) % spread, 86_399)
        minutes, seconds = divmod(self._clock, 60)
        hours, minutes = divmod(minutes, 60)
        return f"{self.today} {hours:02d}:{minutes:02d}:{seconds:02d}{self.sink.timestamp_suffix}"

    def number(self, doc_type: str, year: int) -> str:
        """The next number of `doc_type` in `year`, as numbering.format_number writes it."""
        key = (doc_type, year)
        value = self.numbers.get(key, 0) + 1
        self.numbers[key] = value
        return format_number(doc_type, year, value)

    def schedule(self, kind: Agenda, ordinal: int, what: Any) -> None:
        """Put `what` on the agenda of a day that has not worked through `kind` yet."""
        if ordinal < self.day or (ordinal == self.day and kind in self._worked):
            raise RuntimeError(f"{kind.name} scheduled for a day already worked through")
        self.agenda[kind][ordinal].append(what)

    def due(self, kind: Agenda) -> list[Any]:
        """Today's agenda of `kind` (taken off the agenda)."""
        self._worked.add(kind)
        return self.agenda[kind].pop(self.day, [])
