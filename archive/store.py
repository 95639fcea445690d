"""The archive tool's own tables: its bookkeeping in the source database, and the archive's tables in the
destination, both created by the tool from its own metadata (not through erpcore's migrations).

Source side: `archive_run` (one per run, with the dates it was planned with), `archive_checkpoint` (the
last root key per run and family, committed with each batch's delete) and `archive_batch` (the manifest
of each batch: key range, counts, hash; `pending` until the delete commits, `archived` with it).
Destination side: every archivable erpcore table again, without foreign keys, plus the column
`archive_batch_id`, and `archive_manifest` (a copy of each batch's manifest).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

BATCH_COLUMN = "archive_batch_id"
BookId = BigInteger().with_variant(Integer(), "sqlite")

book = MetaData()

archive_run = Table(
    "archive_run", book,
    Column("id", BookId, primary_key=True, autoincrement=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("state", String(16), nullable=False),  # running | done | stopped
    Column("until", JSON(none_as_null=True), nullable=False),  # family -> last closing date that may move (ISO)
    Column("closed_through", Date),
    Column("closed_source", String(120), nullable=False),
    Column("reason", Text),
)

archive_checkpoint = Table(
    "archive_checkpoint", book,
    Column("run_id", BookId, primary_key=True),
    Column("family", String(40), primary_key=True),
    Column("last_key", BigInteger, nullable=False, default=0),
    Column("batches", Integer, nullable=False, default=0),
    Column("rows", BigInteger, nullable=False, default=0),
    Column("done", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True)),
)

archive_batch = Table(
    "archive_batch", book,
    Column("id", BookId, primary_key=True, autoincrement=True),
    Column("run_id", BookId, nullable=False),
    Column("family", String(40), nullable=False),
    Column("state", String(16), nullable=False),  # pending | archived | abandoned | restored
    Column("first_key", BigInteger),
    Column("last_key", BigInteger),
    Column("roots", Integer, nullable=False, default=0),
    Column("rows", Integer, nullable=False, default=0),
    Column("counts", JSON(none_as_null=True)),  # table -> rows
    Column("hashes", JSON(none_as_null=True)),  # table -> order-independent hash
    Column("hash", String(32)),
    Column("parquet", Text),  # manifest location, when a Parquet copy was written
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("archived_at", DateTime(timezone=True)),
    Column("reason", Text),
    Column("restore_pending", JSON(none_as_null=True)),  # roots restored into the source whose archive copy is not yet deleted
)
Index("ix_archive_batch_state", archive_batch.c.state)

MANIFEST_COLUMNS = ("id", "run_id", "family", "state", "first_key", "last_key", "roots", "rows", "counts",
                    "hashes", "hash", "parquet", "created_at", "archived_at", "reason", "restore_pending")


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def ensure_book(engine: Engine | Connection) -> None:
    """Create the bookkeeping tables in the source database when missing."""
    book.create_all(engine, checkfirst=True)


def destination_metadata(source_tables: Iterable[Table]) -> tuple[MetaData, dict[str, Table], Table]:
    """The archive's tables: each source table's columns, primary key and batch column, no foreign keys."""
    md = MetaData()
    tables: dict[str, Table] = {}
    for table in source_tables:
        columns = [Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable, autoincrement=False)
                   for c in table.columns]
        copy = Table(table.name, md, *columns, Column(BATCH_COLUMN, BigInteger, nullable=False, index=True))
        if "number" in copy.c:
            Index(f"ix_{table.name}_number", copy.c.number)
        tables[table.name] = copy
    manifest = Table("archive_manifest", md, *[Column(c.name, c.type, primary_key=c.primary_key, nullable=c.nullable,
                                                      autoincrement=False) for c in archive_batch.columns])
    return md, tables, manifest
