"""Rich views of the advisor's results; only `advisor.cli` calls these."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from opskit import output


def _mb(size: int) -> str:
    return f"{size / 2**20:.1f}"


def render_analysis(console: Console, report: Any) -> None:
    if hasattr(report, "render_rows"):  # the SQLite report
        render_sqlite(console, report)
        return
    rows = [(r.name, r.index, f"{r.benefit_share:.1%}", len(r.queries), sum(q.calls for q in r.queries),
             _mb(r.estimated_bytes), r.workload_write_calls, r.create) for r in report.recommendations]
    console.print(output.table("Recommended indexes", ["name", "index", "saves", "statements", "calls",
                                                       "est. MB", "write calls", "create"], rows))
    for rec in report.recommendations:
        helped = [(q.statement[:90], q.calls, q.cost_before, q.cost_after, q.generic_before, q.generic_after)
                  for q in rec.queries[:5]]
        console.print(output.table(f"{rec.name}: {rec.reason}", ["statement", "calls", "cost before",
                                                                  "cost after", "generic before",
                                                                  "generic after"], helped))
    if report.skipped:
        console.print(output.table("Not explained (skipped)", ["statement", "why"],
                                   [(s.statement[:90], s.reason) for s in report.skipped]))
    if report.generic_only:
        console.print(f"{len(report.generic_only)} statement(s) priced by the generic plan only "
                      f"(e.g. {report.generic_only[0].reason})")
    if report.verification is not None:
        render_verification(console, report.verification)
    console.print(f"{report.reason}; {report.statements} statements, {report.explains} plans in "
                  f"{report.elapsed_s:.1f}s")


def render_verification(console: Console, verification: Any) -> None:
    rows = [(v.index, f"{v.estimated_speedup:.1f}x", f"{v.measured_speedup:.1f}x", _mb(v.estimated_bytes),
             _mb(v.real_bytes), "DISAGREES" if v.disagrees else "ok", v.reason) for v in verification.indexes]
    console.print(output.table(f"Verified on {verification.where}", ["index", "estimated", "measured",
                                                                     "est. MB", "real MB", "check", "why"], rows))
    console.print(verification.reason)


def render_health(console: Console, report: Any) -> None:
    rows = [(f.kind, f.index, f.table, ", ".join(f.columns), f.scans, _mb(f.size_bytes), f.reason, f.drop)
            for f in report.findings]
    console.print(output.table("Index findings", ["finding", "index", "table", "columns", "scans", "MB", "why",
                                                  "drop"], rows))
    console.print(f"{report.reason}; observed since {report.window_since or 'the statistics were last reset'}")


def render_changes(console: Console, result: Any) -> None:
    rows = [(c.action, c.index, c.table, f"{c.seconds:.2f}", _mb(c.size_bytes), c.reason, c.statement)
            for c in result.changes]
    console.print(output.table(f"Batch {result.batch}", ["action", "index", "table", "seconds", "MB", "why",
                                                         "statement"], rows))
    console.print(result.reason)


def render_sqlite(console: Console, report: Any) -> None:
    console.print(output.table("SQLite: indexes the planner would use", ["index", "statements", "calls",
                                                                         "plan before", "plan after", "create"],
                               report.render_rows()))
    if report.skipped:
        console.print(output.table("Not explained (skipped)", ["statement", "why"],
                                   [(s.statement[:90], s.reason) for s in report.skipped]))
    console.print(report.reason)
