"""One archive setup: the source and destination engines, the families present and their closures.

`open_archive` refuses bad input before anything is written: an unknown policy, a residence time
under one year without `force`, a destination that is the source.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, inspect

from archive import families as registry
from archive.closure import Closure, derive
from archive.families import Family
from archive.settings import ArchiveSettings
from archive.store import destination_metadata, ensure_book
from erpcore.exceptions import ConfigError

MIN_RESIDENCE_YEARS = 1.0


@dataclass
class Archive:
    """Everything a plan, run, verify or restore works with."""

    settings: ArchiveSettings
    source: Engine
    dest: Engine
    tables: dict[str, Table]
    dest_tables: dict[str, Table]
    manifest: Table
    closures: dict[str, Closure] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # family -> why it is not archived
    parquet: Any = None  # archive.parquet.ParquetStore when configured
    server_schema: str | None = None  # the destination's schema when batches move inside PostgreSQL

    def server_side(self, closure: Closure) -> bool:
        """Whether `closure`'s batches move in the server: destination in the source's database, no Parquet
        copy, every table's rows hashable in SQL by the kind of hash batches record, and no hash chain (whose
        anchors move in Python)."""
        from archive.rowhash import RECORD
        from archive.sqlhash import supported

        kind = RECORD if self.settings.server_hash == "record" else ""
        return (self.server_schema is not None and self.parquet is None and not closure.family.hash_chained
                and not any(supported(self.tables[t], kind) for t in closure.tables))

    def until(self, family: str, today: dt.date, closed_through: dt.date | None) -> dt.date | None:
        """The last closing date that may leave production for `family` (None: nothing may)."""
        years = self.settings.policy(family).residence_years
        residence_end = today - dt.timedelta(days=round(years * 365.25)) - dt.timedelta(days=1)
        if closed_through is None:
            return None
        return min(residence_end, closed_through)


def identity(engine: Engine) -> tuple[str, ...]:
    """Where an engine's tables live: the SQLite file, or the PostgreSQL server, database and schema."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql("PRAGMA database_list").fetchall()
            main = next((r[2] for r in rows if r[1] == "main"), "") or ":memory:"
            return ("sqlite", str(Path(main).resolve()) if main != ":memory:" else f"memory:{id(engine)}")
        row = conn.exec_driver_sql("SELECT current_database(), current_schema(), "
                                   "COALESCE(inet_server_addr()::text, 'local'), current_setting('port'), "
                                   "current_setting('data_directory', true)").one()
        return ("postgresql", *(str(v) for v in row))


def check_destination(source: Engine, dest: Engine) -> str | None:
    """Refuse a destination that is the source database (same file, or same server, database and schema);
    returns the destination's schema when it is another schema of the source's PostgreSQL database."""
    ours, theirs = identity(source), identity(dest)
    if ours == theirs:
        shown = dest.url.render_as_string(hide_password=True)
        raise ConfigError(f"the archive destination {shown} is the source database; give another database, "
                          "schema (?options=-csearch_path%3Darchive) or file")
    same_database = ours[0] == "postgresql" and ours[:2] == theirs[:2] and ours[3:] == theirs[3:]
    return theirs[2] if same_database else None


def check_policies(settings: ArchiveSettings, force: bool) -> None:
    for name, policy in settings.policies.items():
        registry.get(name)
        if policy.residence_years < MIN_RESIDENCE_YEARS and not force:
            raise ConfigError(f"policy {name}: residence time {policy.residence_years:g} years is under "
                              f"{MIN_RESIDENCE_YEARS:g} year; pass --force if you mean it")


def open_archive(settings: ArchiveSettings, force: bool = False, source: Engine | None = None,
                 dest: Engine | None = None, create: bool = True) -> Archive:
    """Validate the settings, connect both sides and derive the closures of the families present."""
    from erpcore.db import make_engine
    from erpcore.models import metadata

    check_policies(settings, force)
    if dest is None:
        if not settings.destination_url:
            raise ConfigError("no archive destination: set [archive] destination_url or pass --destination")
        dest = make_engine(settings.destination_url)
    source = source or make_engine(settings.effective_database_url())
    schema = check_destination(source, dest)
    with source.connect() as conn:
        present = set(inspect(conn).get_table_names())
    tables = {t.name: t for t in metadata.sorted_tables}
    ax = _derive(settings, source, dest, tables, present)
    ax.server_schema = schema if settings.server_side else None
    if create:
        ensure_book(source)
        md = ax.manifest.metadata
        md.create_all(dest, checkfirst=True)
    if settings.parquet is not None:
        from archive.parquet import ParquetStore

        ax.parquet = ParquetStore.from_settings(settings.parquet)
    return ax


def _derive(settings: ArchiveSettings, source: Engine, dest: Engine, tables: dict[str, Table],
            present: set[str]) -> Archive:
    roots = {f.root for f in registry.FAMILIES.values()}
    closures: dict[str, Closure] = {}
    skipped: dict[str, str] = {}
    for family in registry.FAMILIES.values():
        reason = _family_skip(settings, family, present, tables)
        if reason:
            skipped[family.name] = reason
            continue
        closure = derive(tables[family.root].metadata, family, present, roots - {family.root})
        keyless = [t for t in closure.tables if len(tables[t].primary_key.columns) != 1]
        if keyless:
            skipped[family.name] = (f"table {keyless[0]} has a composite primary key; batches move rows by a "
                                    "single-column key")
            continue
        closures[family.name] = closure
    moving = [tables[t] for c in closures.values() for t in c.tables]
    _, dest_tables, manifest = destination_metadata(moving)
    return Archive(settings, source, dest, tables, dest_tables, manifest, closures, skipped)


def _family_skip(settings: ArchiveSettings, family: Family, present: set[str], tables: dict[str, Table]) -> str:
    if not settings.policy(family.name).enabled:
        return "disabled by its policy in [archive.policies]"
    if family.root not in present or family.root not in tables:
        return f"table {family.root} does not exist in this schema yet"
    return ""
