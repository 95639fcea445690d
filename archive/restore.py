"""`erpops archive restore`: documents back into production by batch, document number or date range.

Per batch: the closures are read from the destination and hashed, inserted into the source parents
first and read back (same counts and hash, or the source transaction rolls back), the batch's carry-
forward is replaced by the one of what stays archived (audit entries: their chains' anchors move back), and
the roots are recorded as `restore_pending` in the same commit; then the archive copies are deleted and the
batch's counts and hashes refreshed. Audit entries come back only as the newest archived entries of each chain
(`archive.anchors`): a selection that is not is refused before anything moves.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, DateTime, insert, select, update
from sqlalchemy.exc import IntegrityError

from archive import anchors, ledger
from archive.candidates import links
from archive.closure import Closure, ClosureRows, chunks, document_date, pk_column
from archive.context import Archive
from archive.destination import closure_rows, drop_restored, strip
from archive.errors import VerificationFailed
from archive.purge import purge_session
from archive.rowhash import digest
from archive.store import BATCH_COLUMN, archive_batch
from erpcore.exceptions import Conflict, NotFound, ValidationFailed


@dataclass(frozen=True)
class Selection:
    batch_ids: tuple[int, ...] = ()
    document: str | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    family: str | None = None


@dataclass
class RestoreResult:
    documents: int = 0
    postings: int = 0  # journal entries and stock moves that went back with their documents
    rows: int = 0
    batches: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


def select_roots(ax: Archive, sel: Selection) -> dict[tuple[str, int], list[Any]]:
    """(family, batch) -> root keys in the destination that the selection names."""
    if not (sel.batch_ids or sel.document or sel.date_from or sel.date_to):
        raise ValidationFailed("say what to restore: --batch, --document or --from/--to")
    out: dict[tuple[str, int], list[Any]] = defaultdict(list)
    with ax.dest.connect() as conn:
        for name, closure in ax.closures.items():
            if sel.family and name != sel.family:
                continue
            root = ax.dest_tables[closure.root]
            key, batch = root.c[pk_column(root)], root.c[BATCH_COLUMN]
            stmt = select(key, batch)
            if sel.batch_ids:
                stmt = stmt.where(batch.in_(sel.batch_ids))
            if sel.document:
                keys = roots_of_document(conn, ax, closure, sel.document)
                if not keys:
                    continue
                stmt = stmt.where(key.in_(keys))
            column = document_date(closure.family, ax.tables[closure.root])
            if sel.date_from or sel.date_to:
                if column is None:
                    continue
                if sel.date_from:
                    stmt = stmt.where(root.c[column] >= sel.date_from)
                if sel.date_to:
                    stmt = stmt.where(root.c[column] < _day_after(sel.date_to) if isinstance(
                        root.c[column].type, DateTime) else root.c[column] <= sel.date_to)
            for root_key, batch_id in conn.execute(stmt.order_by(key)):
                out[(name, batch_id)].append(root_key)
        _add_ledger_rows(conn, ax, out)
        _add_linked(conn, ax, out)
    if not out:
        raise NotFound("nothing archived matches that selection (see `erpops archive status`)")
    return {k: sorted(set(v)) for k, v in out.items()}


def _day_after(day: dt.date) -> dt.datetime:
    """The first moment after `day`: a timestamp column is dated up to and including `day` below it."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)


def _add_ledger_rows(conn: Connection, ax: Archive, out: dict[tuple[str, int], list[Any]]) -> None:
    """Journal entries and stock moves posted for the selected documents go back with them (else the
    restored documents would lack their postings and `erpops check` would fail)."""
    ledgers = [c for c in ax.closures.values() if c.family.source_link is not None]
    documents = [(family, batch, roots) for (family, batch), roots in list(out.items())
                 if ax.closures[family].family.source_link is None]
    for family, batch_id, roots in documents:
        found = closure_rows(conn, ax, ax.closures[family], batch_id, roots)
        for ledger_closure in ledgers:
            type_col, id_col = ledger_closure.family.source_link  # type: ignore[misc]
            root = ax.dest_tables[ledger_closure.root]
            key = root.c[pk_column(root)]
            for name in found.rows:
                for part in chunks(found.ids(name)):
                    stmt = select(key, root.c[BATCH_COLUMN]).where(root.c[type_col] == name, root.c[id_col].in_(part))
                    for root_key, ledger_batch in conn.execute(stmt):
                        out[(ledger_closure.family.name, ledger_batch)].append(root_key)


def _add_linked(conn: Connection, ax: Archive, out: dict[tuple[str, int], list[Any]]) -> None:
    """Linked roots (`candidates.links`: a reversal entry and its original) go back together, as they left."""
    for name, closure in ax.closures.items():
        edges = links(closure)
        if not edges:
            continue
        root = ax.dest_tables[closure.root]
        key, batch = root.c[pk_column(root)], root.c[BATCH_COLUMN]
        have = {k for (family, _), keys in out.items() if family == name for k in keys}
        wave = sorted(have)
        while wave:
            found = []
            for edge in edges:
                for part in chunks(wave):
                    referrers = select(key, batch).where(root.c[edge.column].in_(part))
                    referenced = select(key, batch).where(key.in_(select(root.c[edge.column]).where(key.in_(part))))
                    for stmt in (referrers, referenced):
                        for root_key, batch_id in conn.execute(stmt):
                            if root_key not in have:
                                have.add(root_key)
                                found.append(root_key)
                                out[(name, batch_id)].append(root_key)
            wave = sorted(found)


def roots_of_document(conn: Connection, ax: Archive, closure: Closure, number: str) -> list[Any]:
    """The root keys whose closure holds a row numbered `number` (walking up the owning foreign keys)."""
    for name in closure.tables:
        table = ax.dest_tables[name]
        if "number" not in table.c:
            continue
        rows = [dict(r._mapping) for r in conn.execute(select(table).where(table.c.number == number))]
        while rows and name != closure.root:
            edge = closure.owning[name]
            parent = ax.dest_tables[edge.parent]
            refs = [r[edge.column] for r in rows]
            rows = [dict(r._mapping) for r in conn.execute(select(parent).where(parent.c[edge.parent_column].in_(refs)))]
            name = edge.parent
        if rows:
            return [r[pk_column(ax.dest_tables[closure.root])] for r in rows]
    return []


def restore(ax: Archive, sel: Selection) -> RestoreResult:
    """Bring the selected archived documents back into production, verified."""
    from archive.reconcile import reconcile
    from archive.runs import run_lock

    result = RestoreResult()
    with run_lock(ax):
        result.reasons += reconcile(ax)
        selected = select_roots(ax, sel)
        anchors.check_restorable(ax, selected)
        for (family, batch_id), roots in sorted(selected.items(), key=lambda kv: -kv[0][1]):
            rows = _restore_batch(ax, ax.closures[family], batch_id, roots)
            if ax.closures[family].family.source_link is None:
                result.documents += len(roots)
            else:
                result.postings += len(roots)
            result.rows += rows
            result.batches.append(batch_id)
            result.reasons.append(f"batch {batch_id}: {len(roots)} {family} document(s), {rows} rows restored "
                                  "and verified")
    return result


def _restore_batch(ax: Archive, closure: Closure, batch_id: int, roots: list[Any]) -> int:
    with ax.dest.connect() as dconn:
        found = closure_rows(dconn, ax, closure, batch_id, roots)
        remaining = _remaining(dconn, ax, closure, batch_id, found) if closure.family.carry_forward else {}
    rows = {t: strip(r) for t, r in found.rows.items()}
    expected = {t: digest(ax.tables[t], r) for t, r in rows.items() if r}
    try:
        with ax.source.connect() as conn, conn.begin():
            purge_session(conn, ax.settings.lock_timeout_ms)
            for name in closure.tables:
                if rows.get(name):
                    conn.execute(insert(ax.tables[name]), sorted(rows[name], key=lambda r: r[found.pks[name]]))
            _verify_source(conn, ax, found, expected, batch_id)
            ledger.replace(conn, ax.tables, closure.family, batch_id, remaining)
            if closure.family.hash_chained:
                anchors.move_back(conn, rows[closure.root])
            conn.execute(update(archive_batch).where(archive_batch.c.id == batch_id).values(
                restore_pending={"family": closure.family.name, "roots": list(roots)}))
    except IntegrityError as exc:
        raise Conflict(f"batch {batch_id} cannot go back yet: {str(exc.orig).splitlines()[0]} (restore the "
                       "documents it refers to first, newest batch first)") from None
    drop_restored(ax, closure, batch_id, roots)
    return sum(d.rows for d in expected.values())


def _remaining(conn: Connection, ax: Archive, closure: Closure, batch_id: int, leaving: ClosureRows
               ) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for name in closure.tables:
        table = ax.dest_tables[name]
        gone = set(leaving.ids(name))
        out[name] = [dict(r._mapping) for r in conn.execute(select(table).where(table.c[BATCH_COLUMN] == batch_id))
                     if r._mapping[pk_column(table)] not in gone]
    return out


def _verify_source(conn: Connection, ax: Archive, found: ClosureRows, expected: dict[str, Any], batch_id: int) -> None:
    for name, want in expected.items():
        table = ax.tables[name]
        key = table.c[found.pks[name]]
        back: list[dict[str, Any]] = []
        for part in chunks(found.ids(name)):
            back += [dict(r._mapping) for r in conn.execute(select(table).where(key.in_(part)))]
        got = digest(table, back)
        if got != want:
            raise VerificationFailed(f"batch {batch_id}: {name} restored as {got.rows} rows hash {got.hex[:12]}, "
                                     f"archived {want.rows} rows hash {want.hex[:12]}; the restore is rolled back")


