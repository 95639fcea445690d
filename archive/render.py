"""Tables and lines for people; the only archive module besides cli.py that prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from opskit import output

if TYPE_CHECKING:
    from archive.context import Archive
    from archive.plan import Plan
    from archive.runner import RunResult
    from archive.show import Shown
    from archive.verify import Status, VerifyResult


def _mib(size: int) -> str:
    return f"{size / 1048576:.1f} MiB"


def render_plan(plan: Plan) -> None:
    console = output.stdout()
    console.print(f"closed periods: through {plan.closed_through or 'none'} ({plan.closed_source}); today {plan.today}")
    rows = []
    for f in plan.families:
        skipped = ", ".join(f"{k} {v}" for k, v in sorted(f.skipped.items())) or "-"
        rows.append((f.family, f.until or "-", f.candidates, f.movable, f.rows, _mib(f.bytes), skipped,
                     f.skipped_reason or "ready"))
    console.print(output.table("Archive plan (dry run)", ["family", "closed until", "candidates", "movable", "rows",
                                                          "size", "stays (why)", "state"], rows))
    examples = [(f.family, s.document, s.reason) for f in plan.families for s in f.examples]
    if examples:
        console.print(output.table("Documents that stay, for example", ["family", "document", "why"], examples))
    if plan.unindexed:
        console.print("warning: no index on " + ", ".join(plan.unindexed) + ": every archived row they reference "
                      "makes the database scan that table; index them before a large run")
    console.print("Ledger rows of documents moved earlier in the same run become movable as the run reaches them.")


def progress_printer() -> Callable[[str, int, int], None]:
    console = output.stderr()

    def show(family: str, documents: int, rows: int) -> None:
        console.print(f"archive: {family}: {documents} documents, {rows} rows moved so far", highlight=False)

    return show


def render_run(result: RunResult) -> None:
    console = output.stdout()
    for note in result.repairs:
        console.print(f"repaired: {note}")
    console.print(f"run {result.run_id}{' (resumed)' if result.resumed else ''}: {result.state}: {result.reason}")
    rows = [(name, n) for name, n in result.family_rows.items()]
    if rows:
        console.print(output.table("Rows archived", ["family", "rows"], rows))
    for name, why in result.skipped_families.items():
        console.print(f"skipped family {name}: {why}")
    if result.skipped:
        console.print("stayed: " + ", ".join(f"{k} {v}" for k, v in sorted(result.skipped.items())))
    wal = "n/a" if result.wal_bytes_per_row is None else f"{result.wal_bytes_per_row:.0f}"
    console.print(f"{result.batches} batches, {result.documents} documents, {result.rows} rows in "
                  f"{result.duration_s:.1f}s ({result.rows_per_s:.0f} rows/s), throttled {result.throttled_s:.1f}s, "
                  f"lock retries {result.lock_retries}, overruns retried smaller {result.overruns}, "
                  f"WAL bytes/row {wal}")
    verdict = "passes" if result.check_ok else "FAILS: " + "; ".join(result.check_violations[:3])
    console.print(f"erpops check after the run {verdict}")


def render_status(status: Status) -> None:
    console = output.stdout()
    console.print(output.table("Runs", ["run", "state", "started", "finished", "reason"], [
        (r["id"], r["state"], r["started_at"], r["finished_at"] or "-", r["reason"] or "") for r in status.runs]))
    console.print(output.table("Checkpoints", ["run", "family", "last key", "batches", "rows", "done"], [
        (c["run_id"], c["family"], c["last_key"], c["batches"], c["rows"], c["done"]) for c in status.checkpoints]))
    console.print(output.table("Batches", ["family", "states", "archived rows"], [
        (f, ", ".join(f"{s} {n}" for s, n in states.items()), status.rows.get(f, 0))
        for f, states in status.batches.items()]))


def render_verify(result: VerifyResult) -> None:
    console = output.stdout()
    for note in result.repairs:
        console.print(f"repaired: {note}")
    bad = [b for b in result.batches if not b.ok]
    console.print(f"{len(result.batches)} archived batches checked, {len(bad)} bad")
    for b in bad:
        console.print(f"batch {b.batch_id} ({b.family}): {b.reason}")
    for name, n in result.duplicates.items():
        console.print(f"duplicates: {n} {name} rows are both in production and in the archive")
    for name, n in result.orphans.items():
        console.print(f"orphans: {n} {name} rows in the archive belong to no archived batch")
    if result.audit_chains:
        console.print(result.audit_chains)
    for v in result.audit_chain_breaks:
        console.print(f"audit trail: {v}")
    for v in result.check_violations:
        console.print(f"erpops check: {v}")
    if result.archive_checked:
        console.print(f"erpops check on the archive side: {len(result.archive_checked)} invariants over the tables "
                      f"it holds, {len(result.archive_check_violations)} violated")
    for v in result.archive_check_violations:
        console.print(f"erpops check (archive): {v}")
    console.print("archive verified" if result.ok else "[bold red]archive NOT verified[/]")


def render_shown(shown: Shown) -> None:
    console = output.stdout()
    if shown.where == "production":
        console.print(f"{shown.number} ({shown.family}) is in production, not archived")
        return
    console.print(f"{shown.number}: archived in batch {shown.batch_id} ({shown.family})")
    for table, rows in shown.rows.items():
        columns = [c for c in rows[0] if c not in ("created_at",)]
        console.print(output.table(table, columns, [[r[c] for c in columns] for r in rows]))


def metrics_text(plan: Plan, ax: Archive) -> str:
    """Prometheus exposition: documents past their residence time still in production, per family."""
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    backlog = Gauge("erpops_archive_backlog_documents", "Documents past their residence time and movable now, "
                    "still in production", ["family"], registry=registry)
    threshold = Gauge("erpops_archive_backlog_threshold_documents", "Backlog the alert fires above",
                      registry=registry)
    for f in plan.families:
        if not f.skipped_reason or f.candidates:
            backlog.labels(f.family).set(f.movable)
    threshold.set(ax.settings.backlog_alert_documents)
    return generate_latest(registry).decode()


