"""Which dates lie in closed fiscal periods: from a `fiscal_period` table when the schema has one, else
from the `[archive] closed_through` setting, else the end of the year before last."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import Connection, inspect, text


@dataclass(frozen=True)
class ClosedThrough:
    """The last day of the last closed period, and where that came from (shown in the plan)."""

    date: dt.date | None
    source: str


def default_closed_through(today: dt.date) -> dt.date:
    """The end of the year before last: a year is closed by then in any jurisdiction we know of."""
    return dt.date(today.year - 2, 12, 31)


def closed_through(conn: Connection, setting: dt.date | None, today: dt.date) -> ClosedThrough:
    """The end of the contiguous run of closed fiscal periods, else the setting, else the default."""
    if "fiscal_period" in inspect(conn).get_table_names():
        return _from_table(conn)
    if setting is not None:
        return ClosedThrough(setting, "setting archive.closed_through")
    return ClosedThrough(default_closed_through(today), "default: end of the year before last")


def _from_table(conn: Connection) -> ClosedThrough:
    columns = {c["name"] for c in inspect(conn).get_columns("fiscal_period")}
    start, end = _pick(columns, ("start_date", "date_from", "starts_on")), _pick(columns, ("end_date", "date_to",
                                                                                           "ends_on"))
    closed = _pick(columns, ("status", "state", "closed", "is_closed", "closed_at"))
    if start is None or end is None or closed is None:
        return ClosedThrough(None, "table fiscal_period (columns not understood: nothing is closed)")
    is_closed = (f"{closed} IN ('closed', 'locked')" if closed in ("status", "state")
                 else f"{closed} IS NOT NULL" if closed == "closed_at" else f"{closed} = TRUE")
    first_open = conn.execute(text(f"SELECT MIN({start}) FROM fiscal_period WHERE NOT ({is_closed})")).scalar()
    if first_open is None:
        last = conn.execute(text(f"SELECT MAX({end}) FROM fiscal_period WHERE {is_closed}")).scalar()
    else:
        last = conn.execute(text(f"SELECT MAX({end}) FROM fiscal_period WHERE {is_closed} AND {end} < :d"),
                            {"d": first_open}).scalar()
    return ClosedThrough(_as_date(last), "table fiscal_period (closed periods)")


def _pick(columns: set[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in columns), None)


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])
