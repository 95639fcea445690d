"""`erpops archive show NUMBER`: an archived document with its whole closure, read from the archive."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from archive.closure import collect, pk_column
from archive.context import Archive
from archive.restore import roots_of_document
from archive.store import BATCH_COLUMN


@dataclass
class Shown:
    number: str
    where: str  # archive | production
    family: str = ""
    batch_id: int | None = None
    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def show(ax: Archive, number: str) -> Shown:
    """The archived document numbered `number` with its closure (or where it is if it is not archived)."""
    from erpcore.exceptions import NotFound

    with ax.dest.connect() as conn:
        for name, closure in ax.closures.items():
            keys = roots_of_document(conn, ax, closure, number)
            if not keys:
                continue
            root = ax.dest_tables[closure.root]
            roots = [dict(r._mapping) for r in conn.execute(select(root).where(root.c[pk_column(root)].in_(keys)))]
            found = collect(conn, closure, ax.dest_tables, roots)
            rows = {t: [{k: v for k, v in r.items() if k != BATCH_COLUMN} for r in rs]
                    for t, rs in found.rows.items() if rs}
            return Shown(number, "archive", name, roots[0][BATCH_COLUMN], rows)
    with ax.source.connect() as conn:
        for name, table in ax.tables.items():
            if "number" in table.c and conn.execute(select(table.c.number).where(table.c.number == number)).first():
                return Shown(number, "production", name)
    raise NotFound(f"no document numbered {number} in production or in the archive")
