"""Deterministic, realistic history ending today, written fast: `seed(engine, years, orders_per_day, seed)`.

The company is simulated day by day in plain Python (explicit ids, in-memory stock and open documents)
following the live rules (erpcore.domain's postings, valuation and statuses), and its rows are streamed
per table: COPY on PostgreSQL, executemany on SQLite. Documents are written once, when they are final
(closed, cancelled) or when history ends, so no row is ever updated.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from erpcore.crypto import Keyring
from erpcore.exceptions import ValidationFailed
from erpcore.seeding import database, simulation
from erpcore.seeding.context import Context, Reference
from erpcore.seeding.controls import seed_controls
from erpcore.seeding.ledger import amount
from erpcore.seeding.sinks import PgCopySink, Sink, SqliteSink

DOCUMENTS = ("customer", "supplier", "item", "sales_order", "shipment", "customer_invoice", "customer_receipt",
             "purchase_requisition", "purchase_order", "goods_receipt", "supplier_invoice", "supplier_payment",
             "work_order", "journal_entry", "stock_move")


@dataclass(frozen=True)
class SeedSummary:
    """What a seed wrote: the period, rows per table, documents still open by stage, and how fast."""

    start: dt.date
    end: dt.date
    orders_per_day: int
    seed: int
    rows: dict[str, int]
    open_documents: dict[str, int]
    capital: Decimal
    duration_s: float

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())

    @property
    def rows_per_s(self) -> float:
        return self.total_rows / self.duration_s if self.duration_s > 0 else 0.0

    @property
    def documents(self) -> dict[str, int]:
        return {table: self.rows[table] for table in DOCUMENTS}


def period(years: int, end: dt.date, days: int | None = None) -> tuple[dt.date, dt.date]:
    """The first and last day of `years` (or `days`) of history ending on `end`."""
    if days is not None:
        return end - dt.timedelta(days=days - 1), end
    try:
        back = end.replace(year=end.year - years)
    except ValueError:  # 29 February
        back = end.replace(year=end.year - years, day=28)
    return back + dt.timedelta(days=1), end


def seed(engine: Engine, years: int, orders_per_day: int, seed: int, end: dt.date | None = None,
         progress: Callable[[int, int], None] | None = None, *, days: int | None = None,
         keys: Keyring | None = None) -> SeedSummary:
    """Seed `years` (or `days`) of history ending on `end` (today) into an empty, migrated database.

    Same arguments, same rows. `days` overrides `years` for short histories (tests, demos).
    `progress(done, total)` is called once per simulated day and once more when the database has
    finished (foreign keys restored and validated, sequences moved on, statistics gathered). Sensitive fields
    are sealed with `keys` (default: the configured keyring; none configured: stored plain).
    """
    if orders_per_day < 1 or (days is None and years < 1) or (days is not None and days < 1):
        raise ValidationFailed("seed needs at least one day of history and one order a day")
    from erpcore.migrate import require_current

    require_current(engine)
    start, last = period(years, end or dt.date.today(), days)
    if keys is None:
        from erpcore.config import load_settings
        from erpcore.crypto import keyring

        keys = keyring(load_settings())
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        load = _load_postgresql if engine.dialect.name == "postgresql" else _load_sqlite
        counts, open_docs, capital = load(raw.driver_connection, start, last, orders_per_day, seed, progress, keys)
    finally:
        raw.close()
    _close_history(engine, start, last)
    counts.update(seed_controls(engine, start, last))
    return SeedSummary(start, last, orders_per_day, seed, counts, open_docs, amount(capital),
                       time.perf_counter() - started)


Outcome = tuple[dict[str, int], dict[str, int], int]
CLOSE_AFTER_DAYS = 31  # months that ended at least this long before the history's end are closed


def _close_history(engine: Engine, start: dt.date, last: dt.date) -> None:
    """Close every month of the history that ended a month or more before its last day, as month-end close
    would have (the seeder leaves no draft or held document that old)."""
    from sqlalchemy import insert

    from erpcore.domain import periods
    from erpcore.models import FiscalPeriod

    rows, month = [], (start.year, start.month)
    while periods.bounds(month)[1] <= last - dt.timedelta(days=CLOSE_AFTER_DAYS):
        first, end = periods.bounds(month)
        rows.append({"year": month[0], "month": month[1], "start_date": first, "end_date": end,
                     "status": "closed", "closed_at": dt.datetime.combine(end, dt.time(23, 59), dt.UTC),
                     "closed_by": "seed"})
        month = (month[0] + month[1] // 12, month[1] % 12 + 1)
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(FiscalPeriod), rows)


def _simulate(sink: Sink, ref: Reference, start: dt.date, end: dt.date, orders_per_day: int, seed: int,
              progress: Callable[[int, int], None] | None, keys: Keyring) -> Outcome:
    ctx = Context(random.Random(seed), sink, ref, start.toordinal(), end.toordinal(), keys=keys)
    days = ctx.end - ctx.start + 1
    tick = None if progress is None else (lambda done, _total: progress(done, days + 1))
    selling = simulation.setup(ctx, orders_per_day)
    open_docs = simulation.run(ctx, selling, orders_per_day, tick)
    sink.flush()
    return dict(sink.counts), open_docs, simulation.capital_needed(ctx)


def _load_postgresql(conn: Any, start: dt.date, end: dt.date, orders_per_day: int, seed: int,
                     progress: Callable[[int, int], None] | None, keys: Keyring) -> Outcome:
    """One transaction: foreign keys aside, COPY everything, foreign keys back (validated), sequences on."""
    try:
        with conn.cursor() as cursor:
            database.refuse_unless_empty(cursor)
            ref = database.read_reference(cursor)
            cursor.execute("SET LOCAL work_mem = '256MB'")  # foreign keys validate by hash joins
            restore = database.set_foreign_keys_aside(cursor)
        sink = PgCopySink(conn)
        try:
            outcome = _simulate(sink, ref, start, end, orders_per_day, seed, progress, keys)
        finally:
            sink.close()
        with conn.cursor() as cursor:
            database.restore(cursor, restore)
            database.advance_sequences(cursor)
        conn.commit()
    except BaseException:
        conn.rollback()
        raise
    database.analyze(conn)
    _finished(progress, start, end)
    return outcome


def _load_sqlite(conn: Any, start: dt.date, end: dt.date, orders_per_day: int, seed: int,
                 progress: Callable[[int, int], None] | None, keys: Keyring) -> Outcome:
    """Foreign keys off for the load (documents are written when final, children may come first), checked after."""
    saved = conn.isolation_level
    conn.isolation_level = None
    cursor = conn.cursor()
    cursor.execute("PRAGMA foreign_keys=OFF")
    try:
        database.refuse_unless_empty(cursor)
        ref = database.read_reference(cursor)
        outcome = _simulate(SqliteSink(conn), ref, start, end, orders_per_day, seed, progress, keys)
        database.check_sqlite_foreign_keys(cursor)
    finally:
        cursor.execute("PRAGMA foreign_keys=ON")
        conn.isolation_level = saved
    _finished(progress, start, end)
    return outcome


def _finished(progress: Callable[[int, int], None] | None, start: dt.date, end: dt.date) -> None:
    if progress is not None:
        total = (end - start).days + 2
        progress(total, total)

