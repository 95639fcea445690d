"""Drill reports as data: a stable JSON document and a Markdown page (the CLI writes them to files)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from failover.drill import METRICS, DrillResult, summarize_drills
from opskit.output import to_jsonable


def report_document(results: Sequence[DrillResult], targets: dict[str, float]) -> dict[str, Any]:
    """Every drill, the summary over repeats and the verdict, as plain JSON-ready data."""
    summary = summarize_drills(results)
    return {
        "ok": all(r.ok for r in results) and bool(results),
        "targets": targets,
        "summary": summary,
        "metrics": metrics(results),
        "drills": [_without_output(r.to_dict()) for r in results],
    }


def metrics(results: Sequence[DrillResult]) -> dict[str, float]:
    """RTO and RPO as flat gauges (Prometheus names) for the monitor to scrape from the JSON report."""
    summary = summarize_drills(results)
    rto = summary["seconds"]["business_rto"]
    return {
        "erpops_failover_business_rto_seconds_p50": rto["p50"] if rto["p50"] is not None else -1.0,
        "erpops_failover_business_rto_seconds_p95": rto["p95"] if rto["p95"] is not None else -1.0,
        "erpops_failover_rpo_lost_acknowledged_commits": float(summary["lost_acknowledged"]),
        "erpops_failover_in_doubt_commits": float(summary["in_doubt"]),
        "erpops_failover_drills_failed": float(summary["drills"] - summary["passed"]),
    }


def _without_output(data: dict[str, Any]) -> dict[str, Any]:
    rejoin = data.get("rejoin")
    if isinstance(rejoin, dict):
        rejoin.pop("rewind_output", None)
    return data


def markdown(document: dict[str, Any]) -> str:
    """A human report: verdict, summary table, and each drill's timeline with the reasons."""
    summary = document["summary"]
    lines = [
        "# Failover drill report", "",
        (f"**Verdict:** {'PASSED' if document['ok'] else 'FAILED'} — {summary['passed']}/{summary['drills']} "
         f"drills passed, {summary['lost_acknowledged']} acknowledged commits lost, "
         f"{summary['in_doubt']} in doubt, {summary['acked']} acknowledged."), "",
        "| point (s after fault) | n | p50 | p95 | max |", "|---|---:|---:|---:|---:|",
    ]
    for name in METRICS:
        s = summary["seconds"][name]
        if s["n"]:
            lines.append(f"| {name} | {s['n']} | {s['p50']} | {s['p95']} | {s['max']} |")
    for i, drill in enumerate(document["drills"], start=1):
        verdict = "ok" if drill["ok"] else "FAILED"
        lines += ["", (f"## Drill {i}: {drill['fault']} on {drill['engine']} "
                       f"({drill['old_primary']} → {drill['new_primary']}) — {verdict}"), ""]
        lines += [f"- {f}" for f in drill["failures"]]
        if drill.get("check"):
            lines.append(f"- erpops check on the new primary: {drill['check']['checked']} invariants, "
                         f"{drill['check']['violations']} violations")
        lines += ["", "| +s | point | reason |", "|---:|---|---|"]
        start = drill["events"][0]["at"] if drill["events"] else 0.0
        for event in drill["events"]:
            lines.append(f"| {event['at'] - start:.3f} | {event['mark']} | {event['reason'].replace('|', '/')} |")
        if drill["missing_marks"]:
            lines.append(f"\nMissing from the timeline: {', '.join(drill['missing_marks'])}")
    return "\n".join(lines) + "\n"


def write_reports(document: dict[str, Any], directory: Path, stem: str) -> tuple[Path, Path]:
    """Write `<stem>.json` and `<stem>.md` under `directory`; returns both paths.

    Each file appears whole or not at all (written beside, then renamed), also when the write is interrupted.
    """
    directory.mkdir(parents=True, exist_ok=True)
    json_path, md_path = directory / f"{stem}.json", directory / f"{stem}.md"
    _write_whole(json_path, json.dumps(to_jsonable(document), indent=2) + "\n")
    _write_whole(md_path, markdown(to_jsonable(document)))
    return json_path, md_path


def _write_whole(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    try:
        partial.write_text(text)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
