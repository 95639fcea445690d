"""History views: `<table>_history` = production rows UNION ALL archived rows, for reports over any range.

Possible when the archive is a schema of the same PostgreSQL database. Carry-forward rows are left out of
the production side, since the archived rows they summarise are in the view themselves: a trial balance,
stock valuation or sales-by-month over the views gives the figures of before the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text

from archive.context import Archive, identity
from archive.families import CARRY_FORWARD_SOURCE
from erpcore.exceptions import ConfigError


@dataclass
class ViewsResult:
    schema: str
    views: list[str] = field(default_factory=list)


def _production_filter(ax: Archive, table: str) -> str:
    for closure in ax.closures.values():
        if closure.family.carry_forward is None or table not in closure.tables:
            continue
        type_col = closure.family.source_link[0] if closure.family.source_link else "source_type"
        if table == closure.root:
            return f" WHERE {type_col} <> '{CARRY_FORWARD_SOURCE}'"
        edge = closure.owning[table]
        return (f" WHERE {edge.column} NOT IN (SELECT {edge.parent_column} FROM {edge.parent} "
                f"WHERE {type_col} = '{CARRY_FORWARD_SOURCE}')")
    return ""


def create_history_views(ax: Archive) -> ViewsResult:
    """Create or replace one `<table>_history` view per archived table in the production schema."""
    source, dest = identity(ax.source), identity(ax.dest)
    if source[0] != "postgresql" or source[1] != dest[1] or source[3:] != dest[3:]:
        raise ConfigError("history views need the archive in the same PostgreSQL database as production "
                          "(a schema: ?options=-csearch_path%3Darchive); read other archives with `archive show`")
    schema = dest[2]
    result = ViewsResult(schema)
    with ax.source.begin() as conn:
        for name in ax.dest_tables:
            columns = ", ".join(c.name for c in ax.tables[name].columns)
            conn.execute(text(
                f'CREATE OR REPLACE VIEW {name}_history AS SELECT {columns}, FALSE AS archived FROM {name}'
                f'{_production_filter(ax, name)} UNION ALL SELECT {columns}, TRUE FROM "{schema}".{name}'))
            result.views.append(f"{name}_history")
    return result
