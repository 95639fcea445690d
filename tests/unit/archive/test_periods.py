"""Closed periods from a `fiscal_period` table in its likely shapes, else the setting, else the default."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import create_engine, text

from archive.periods import closed_through

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(("ddl", "rows", "expected"), [
    ("start_date DATE, end_date DATE, status TEXT",
     [("2024-01-01", "2024-12-31", "closed"), ("2025-01-01", "2025-12-31", "locked"),
      ("2026-01-01", "2026-12-31", "open")], dt.date(2025, 12, 31)),
    ("date_from DATE, date_to DATE, closed_at TIMESTAMP",
     [("2024-01-01", "2024-06-30", "2024-07-10"), ("2024-07-01", "2024-12-31", None)], dt.date(2024, 6, 30)),
    ("starts_on DATE, ends_on DATE, is_closed BOOLEAN",
     [("2023-01-01", "2023-12-31", 1), ("2024-01-01", "2024-12-31", 1)], dt.date(2024, 12, 31)),
])
def test_the_run_of_closed_periods_ends_at_the_first_open_one(ddl: str, rows: list[tuple[object, ...]],
                                                               expected: dt.date) -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text(f"CREATE TABLE fiscal_period ({ddl})"))
        for row in rows:
            conn.execute(text("INSERT INTO fiscal_period VALUES (:a, :b, :c)"),
                         {"a": row[0], "b": row[1], "c": row[2]})
        found = closed_through(conn, dt.date(2020, 1, 1), TODAY)
    assert found.date == expected and found.source == "table fiscal_period (closed periods)"


def test_an_unknown_table_shape_closes_nothing() -> None:
    engine = create_engine("sqlite://")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE fiscal_period (id INTEGER, name TEXT)"))
        found = closed_through(conn, dt.date(2025, 1, 1), TODAY)
    assert found.date is None and "not understood" in found.source


def test_without_a_table_the_setting_then_the_default() -> None:
    engine = create_engine("sqlite://")
    with engine.connect() as conn:
        assert closed_through(conn, dt.date(2025, 3, 31), TODAY).date == dt.date(2025, 3, 31)
        default = closed_through(conn, None, TODAY)
    assert default.date == dt.date(2024, 12, 31) and default.source.startswith("default")
