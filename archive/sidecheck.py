"""`erpops check` on the archive side: the invariants that read only tables of one archived family.

The archive keeps whole documents (closures) and their ledger rows, not master data (accounts, items, stock
balances); its audit entries are checked against production's chain anchors by `archive.anchors`. Families move one after another, so a document can be archived while its journal
entry still waits in production (its own period, a reversal holding it): an invariant that joins two families
(a shipment and its entry) can straddle the two sides legitimately. An invariant runs on the archive side when
every table it reads is archived and in one family's closure, with production's own SQL, and a violation is
reported as production's are; the others are named not applicable, never counted as passed.
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
        families = [set(c.tables) for c in ax.closures.values()]
        for invariant in INVARIANTS:
            reads = tables_read(invariant.sql)
            whole = bool(reads) and reads <= present and any(reads <= tables for tables in families)
            (out.checked if whole else out.not_applicable).append(invariant.name)
        if out.checked:
            out.violations = [v.message for v in run_check(conn, only=out.checked).violations]
    return out
