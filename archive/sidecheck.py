"""`erpops check` on the archive side: the invariants that read only tables the archive holds.

The archive keeps whole documents (closures) and their ledger rows, not master data (accounts, items, stock
balances, the audit trail): an invariant runs there when every table it reads was archived, with production's
own SQL, and a violation is reported as production's are. The invariants that read a table the archive lacks
are named as not applicable, never counted as passed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import inspect

from archive.context import Archive

TABLE_REF = re.compile(r"\b(?:FROM|JOIN)\s+([a-z_][a-z0-9_]*)", re.IGNORECASE)


@dataclass
class SideCheck:
    checked: list[str] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.violations


def tables_read(sql: str) -> set[str]:
    """The schema tables an invariant's SQL reads (its FROM and JOIN targets)."""
    from erpcore.models import metadata

    return {name for name in TABLE_REF.findall(sql) if name in metadata.tables}


def check_archive_side(ax: Archive) -> SideCheck:
    from erpcore.check import INVARIANTS, run_check

    out = SideCheck()
    with ax.dest.connect() as conn:
        present = set(inspect(conn).get_table_names())
        for invariant in INVARIANTS:
            reads = tables_read(invariant.sql)
            (out.checked if reads and reads <= present else out.not_applicable).append(invariant.name)
        if out.checked:
            out.violations = [v.message for v in run_check(conn, only=out.checked).violations]
    return out
