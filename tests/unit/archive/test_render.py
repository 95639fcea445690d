"""What people read: the plan, a run, verify, status and an archived document, rendered from results."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.candidates import Skip
from archive.plan import FamilyPlan, Plan
from archive.render import render_plan, render_run, render_shown, render_status, render_verify
from archive.runner import RunResult
from archive.show import Shown
from archive.verify import BatchCheck, Status, VerifyResult


def test_the_plan_names_the_period_source_what_stays_and_unindexed_references(capsys: pytest.CaptureFixture[str]
                                                                              ) -> None:
    plan = Plan(dt.date(2026, 12, 3), dt.date(2024, 12, 31), "setting archive.closed_through", [
        FamilyPlan("sales_orders", "", until=dt.date(2023, 12, 2), candidates=10, movable=8, rows=120,
                   bytes=3 * 1048576, skipped={"open": 2},
                   examples=[Skip("SO-2023-0000007", "open", "CI-2023-0000009 is posted")]),
        FamilyPlan("work_orders", "", skipped_reason="table work_order does not exist in this schema yet")],
        ["journal_entry.reversal_of_id"])
    render_plan(plan)
    out = capsys.readouterr().out
    assert "through 2024-12-31 (setting archive.closed_through)" in out
    assert "CI-2023-0000009 is posted" in out and "open 2" in out and "3.0 MiB" in out
    assert "table work_order does not exist" in out
    assert "warning: no index on journal_entry.reversal_of_id" in out


def test_a_run_shows_its_reason_statistics_and_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    result = RunResult(4, True, "stopped", "stopped at --max-rows 100 (120 rows moved)", repairs=["batch 9 ..."],
                       batches=3, documents=12, rows=120, family_rows={"sales_orders": 120}, skipped={"residence": 4},
                       duration_s=2.0, throttled_s=0.5, wal_bytes_per_row=812.4, check_ok=False,
                       check_violations=["trial balance is off"])
    render_run(result)
    out = capsys.readouterr().out
    assert "run 4 (resumed): stopped: stopped at --max-rows 100" in out
    assert "repaired: batch 9" in out and "residence 4" in out
    assert "60 rows/s" in out and "throttled 0.5s" in out and "WAL bytes/row 812" in out
    assert "erpops check after the run FAILS: trial balance is off" in out


def test_verify_lists_every_problem(capsys: pytest.CaptureFixture[str]) -> None:
    result = VerifyResult([BatchCheck(1, "sales_orders", 10, True, "ok"),
                           BatchCheck(2, "sales_orders", 10, False, "sales_order: 9 rows hash 00")],
                          duplicates={"sales_order": 1}, orphans={"shipment": 2})
    render_verify(result)
    out = capsys.readouterr().out
    assert "2 archived batches checked, 1 bad" in out and "batch 2 (sales_orders): sales_order: 9 rows" in out
    assert "duplicates: 1 sales_order" in out and "orphans: 2 shipment" in out and "NOT verified" in out
    render_verify(VerifyResult())
    assert "archive verified" in capsys.readouterr().out


def test_status_and_a_shown_document(capsys: pytest.CaptureFixture[str]) -> None:
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    render_status(Status([{"id": 1, "state": "done", "started_at": now, "finished_at": now, "reason": "all"}],
                         [{"run_id": 1, "family": "stock_moves", "last_key": 77, "batches": 2, "rows": 300,
                           "done": True}], {"stock_moves": {"archived": 2}}, {"stock_moves": 300}))
    out = capsys.readouterr().out
    assert "stock_moves" in out and "archived 2" in out and "300" in out
    render_shown(Shown("SO-1", "archive", "sales_orders", 5, {"sales_order": [{"id": 1, "number": "SO-1",
                                                                             "created_at": now}]}))
    out = capsys.readouterr().out
    assert "SO-1: archived in batch 5 (sales_orders)" in out and "created_at" not in out
    render_shown(Shown("SO-2", "production", "sales_order"))
    assert "is in production, not archived" in capsys.readouterr().out


def test_the_archive_benchmark_never_prints_a_rounded_pass_beside_a_miss() -> None:
    from bench.archive_throughput import verdicts

    lines = verdicts(0.7957, 0.0051, 0.0025, 0.02, 0.5004, 26.0)
    assert lines[0].startswith("throughput ratio  0.796x") and lines[0].split()[-1] == "MISS"
    assert "2.040x idle: 5.1 ms vs 2.5 ms" in lines[1] and "MISS" in lines[1]
    assert "lock wait max     500 ms" in lines[2] and "MISS" in lines[2]  # 500.4 ms is over the bound
    assert all("PASS" in line for line in verdicts(0.8, 0.005, 0.0025, 0.02, 0.5, 26.0))


def test_the_archive_benchmark_says_how_much_of_the_probes_slowest_percent_its_commit_took() -> None:
    from sqlalchemy import create_engine

    from bench.archive_throughput import Probe, slowest

    probe = Probe(create_engine("sqlite://"))
    probe.latencies = [0.002] * 99 + [0.030]  # one slow probe, in the slowest 1%: its commit took 25 of its 30 ms
    probe.commits = [0.001] * 99 + [0.025]
    assert slowest(probe) == "commit 25.0 of 30.0 ms (1 samples)"
    probe.commits = [0.001] * 100  # the slow one spent its time before its commit
    assert slowest(probe) == "commit 1.0 of 30.0 ms (1 samples)"
    probe.queued = [0.0] * 99 + [0.004]  # its thread and backend waited 4 ms for a CPU
    assert slowest(probe) == "commit 1.0, waiting for a CPU 4.0 of 30.0 ms (1 samples)"
    assert slowest(Probe(create_engine("sqlite://"))) == "no samples"


def test_the_archive_benchmark_reads_the_run_queue_of_a_backend_on_this_machine_only(tmp_path: Path) -> None:
    import os

    from bench.archive_throughput import run_queue_files, run_queue_s

    assert run_queue_files(os.getpid()) == []  # a process here, but not a PostgreSQL backend
    assert run_queue_files(2 ** 22 + 1) == []  # no such process: the server is elsewhere
    clocks = [tmp_path / "a", tmp_path / "b"]
    clocks[0].write_text("1000 2500000 7\n")
    clocks[1].write_text("1000 500000 3\n")
    assert run_queue_s([str(c) for c in clocks]) == 0.003


def test_the_archive_benchmark_profile_shows_a_statement_that_raised_on_its_own_line() -> None:
    import time
    from types import SimpleNamespace

    import pytest
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import OperationalError

    from bench.archive_throughput import StatementClock

    engine = create_engine("sqlite://")
    clock = StatementClock()
    clock.attach(engine)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        with pytest.raises(OperationalError):
            conn.execute(text("SELECT * FROM no_such_table"))
    assert clock.counts == {"other": 1, "failed": 1}
    report = clock.report(1, 1.0)
    assert "  failed " in report and "  other " in report
    clock.started = time.perf_counter()  # a one-call batch PostgreSQL cancelled at its statement_timeout
    clock._failed(SimpleNamespace(original_exception=Exception("canceling statement due to statement timeout")))
    assert clock.counts["cancelled past the bound"] == 1 and clock.started is None
