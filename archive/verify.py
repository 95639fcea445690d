"""`erpops archive verify` and `status`: the archive against its manifests, and where runs stand.

Verify re-hashes every archived batch in the destination against the source's manifest, looks for rows
that are in both places (duplicates) and archive rows of no archived batch (orphans), re-reads the
Parquet copies, checks the archived audit entries chain by chain from GENESIS to production's anchors, and
runs `erpops check` on the source and, over the tables the archive holds, on the archive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, func, select

from archive.anchors import verify_archived
from archive.closure import chunks, pk_column
from archive.context import Archive
from archive.destination import destination_digest
from archive.rowhash import kind_of
from archive.store import BATCH_COLUMN, archive_batch, archive_checkpoint, archive_run


@dataclass
class BatchCheck:
    batch_id: int
    family: str
    rows: int
    ok: bool
    reason: str


@dataclass
class VerifyResult:
    batches: list[BatchCheck] = field(default_factory=list)
    duplicates: dict[str, int] = field(default_factory=dict)
    orphans: dict[str, int] = field(default_factory=dict)
    check_violations: list[str] = field(default_factory=list)
    archive_checked: list[str] = field(default_factory=list)  # invariants run on the archive side
    archive_check_violations: list[str] = field(default_factory=list)
    repairs: list[str] = field(default_factory=list)
    audit_chains: str = ""  # the archived audit segment checked against production's anchors
    audit_chain_breaks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (all(b.ok for b in self.batches) and not self.duplicates and not self.orphans
                and not self.audit_chain_breaks and not self.check_violations and not self.archive_check_violations)


def verify(ax: Archive, batch_ids: list[int] | None = None, check: bool = True) -> VerifyResult:
    """Re-verify the archive: every batch's counts and hashes, no duplicate, no orphan, the books."""
    from archive.reconcile import reconcile
    from archive.runs import run_lock
    from archive.sidecheck import check_archive_side
    from erpcore.check import run_check

    out = VerifyResult()
    with run_lock(ax):
        out.repairs = reconcile(ax)
    with ax.source.connect() as conn:
        stmt = select(archive_batch).where(archive_batch.c.state == "archived").order_by(archive_batch.c.id)
        if batch_ids:
            stmt = stmt.where(archive_batch.c.id.in_(batch_ids))
        batches = [dict(r._mapping) for r in conn.execute(stmt)]
        live = set(conn.execute(select(archive_batch.c.id).where(archive_batch.c.state == "archived")).scalars())
    with ax.dest.connect() as dconn:
        out.batches = [_check_batch(dconn, ax, b) for b in batches]
        out.orphans = _orphans(dconn, ax, live)
    out.duplicates = _duplicates(ax)
    out.audit_chains, out.audit_chain_breaks = verify_archived(ax)
    if check:
        out.check_violations = [v.message for v in run_check(ax.source).violations]
        side = check_archive_side(ax)
        out.archive_checked, out.archive_check_violations = side.checked, side.violations
    return out


def _check_batch(dconn: Connection, ax: Archive, batch: dict[str, Any]) -> BatchCheck:
    problems = []
    for name, want_hash in (batch["hashes"] or {}).items():
        got = destination_digest(dconn, ax, name, batch["id"], kind_of(want_hash))
        want_rows = (batch["counts"] or {}).get(name, 0)
        if (got.rows, got.hex) != (want_rows, want_hash):
            problems.append(f"{name}: {got.rows} rows hash {got.hex[:12]}, manifest {want_rows} rows hash "
                            f"{want_hash[:12]}")
    if not problems and batch["parquet"] and ax.parquet is not None:
        problems += ax.parquet.verify_batch(batch["id"], batch["family"], ax.tables, batch["hashes"] or {})
    reason = "; ".join(problems) or f"{batch['rows']} rows match the manifest (hash {str(batch['hash'])[:12]})"
    return BatchCheck(batch["id"], batch["family"], batch["rows"], not problems, reason)


def _orphans(dconn: Connection, ax: Archive, live: set[int]) -> dict[str, int]:
    out = {}
    for name, table in ax.dest_tables.items():
        stmt = select(table.c[BATCH_COLUMN], func.count()).group_by(table.c[BATCH_COLUMN])
        stray = sum(n for batch_id, n in dconn.execute(stmt) if batch_id not in live)
        if stray:
            out[name] = stray
    return out


def _duplicates(ax: Archive) -> dict[str, int]:
    """Rows present both in production and in the archive (there must be none)."""
    out = {}
    with ax.dest.connect() as dconn, ax.source.connect() as conn:
        for name, table in ax.dest_tables.items():
            key = pk_column(ax.tables[name])
            ids = list(dconn.execute(select(table.c[key])).scalars())
            source_key = ax.tables[name].c[key]
            both = sum(conn.execute(select(func.count()).where(source_key.in_(part))).scalar_one()
                       for part in chunks(ids))
            if both:
                out[name] = both
    return out


@dataclass
class Status:
    runs: list[dict[str, Any]]
    checkpoints: list[dict[str, Any]]
    batches: dict[str, dict[str, int]]  # family -> state -> batches
    rows: dict[str, int]  # family -> archived rows


def status(ax: Archive, runs: int = 5) -> Status:
    """Recent runs with their checkpoints, and archived batches and rows per family."""
    with ax.source.connect() as conn:
        recent = [dict(r._mapping) for r in conn.execute(
            select(archive_run).order_by(archive_run.c.id.desc()).limit(runs))]
        ids = [r["id"] for r in recent]
        points = [dict(r._mapping) for r in conn.execute(
            select(archive_checkpoint).where(archive_checkpoint.c.run_id.in_(ids or [-1]))
            .order_by(archive_checkpoint.c.run_id.desc(), archive_checkpoint.c.family))]
        batches: dict[str, dict[str, int]] = {}
        rows: dict[str, int] = {}
        stmt = select(archive_batch.c.family, archive_batch.c.state, func.count(), func.sum(archive_batch.c.rows))
        for family, state, n, total in conn.execute(stmt.group_by(archive_batch.c.family, archive_batch.c.state)):
            batches.setdefault(family, {})[state] = int(n)
            if state == "archived":
                rows[family] = int(total or 0)
    return Status(recent, points, batches, rows)
