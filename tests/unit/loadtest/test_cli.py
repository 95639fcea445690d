"""`erpops loadtest` commands have help with an example; bad choices fail before any work with exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from erpops.cli import main
from loadtest.cli import app


def test_run_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    assert "Example: erpops loadtest run --suite o2c" in result.output


@pytest.mark.parametrize("args", [["--suite", "nope"], ["--shape", "zigzag"], ["--profile", "nightly"],
                                  ["--run-time", "soon"]])
def test_bad_choices_exit_2(args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["loadtest", "run", "--out", str(tmp_path / "out"), "--host", "http://127.0.0.1:9", *args])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_worker_help_has_an_example() -> None:
    result = CliRunner().invoke(app, ["worker", "--help"])
    assert result.exit_code == 0
    assert "Example: erpops loadtest worker --master-host" in result.output


def test_master_options_without_workers_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["loadtest", "run", "--out", str(tmp_path / "out"), "--host", "http://127.0.0.1:9", "--master-port", "5557"])
    assert exit_.value.code == 2
    assert "--master-port need --workers or --remote-workers" in capsys.readouterr().err


def test_progress_lines_go_to_stderr_in_one_stable_shape(capsys: pytest.CaptureFixture[str]) -> None:
    from loadtest.cli import _show_progress
    from loadtest.runner import Progress

    _show_progress(Progress(15.2, 19, 1126, 3, 100.24, 260.0))
    _show_progress(Progress(5.0, 1, 0, 0, 0.0, None))
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == ["loadtest:    15s  users 19  rps 100.2  p95 260 ms  failures 3 of 1126",
                                "loadtest:     5s  users 1  rps 0.0  p95 -  failures 0 of 0"]


def test_the_verdict_view_keeps_bracketed_selectors_and_says_what_the_run_revoked() -> None:
    from rich.console import Console

    from loadtest.cli import _verdict_view
    from loadtest.harness import Verdict
    from loadtest.slo import ThresholdResult

    breach = ThresholdResult("POST /sales-orders/[id]/approve", "p(95) < 1", False, 40.0, 1.0, True,
                             "p(95) of POST /sales-orders/[id]/approve was 40 ms: breached < 1 ms")
    verdict = Verdict("slo_breach", 1, "1 of 1 threshold(s) breached: POST /sales-orders/[id]/approve: p(95) < 1",
                      "o2c", {}, "http://127.0.0.1:1", "2026-01-01T00:00:00+00:00", 9.0, 10, 0, 10, 0, True,
                      [breach], [], {"ok": True}, files={"verdict": "/tmp/v.json"}, run_id="abc",
                      tokens={"created": 6, "revoked": 6, "problem": None})
    console = Console(width=300, record=True)
    console.print(_verdict_view(verdict))
    text = console.export_text()
    assert text.count("POST /sales-orders/[id]/approve") == 3  # selector and reason in the table, the verdict
    assert "run abc: 6 tokens created, 6 revoked" in text
    assert "slo_breach (exit 1): 1 of 1 threshold(s) breached" in text and "erpops check after the run: ok" in text


def test_every_loadtest_command_has_help_with_an_example_and_the_exit_codes() -> None:
    for args in (["run"], ["worker"], ["slo", "check"]):
        result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0 and "Example: erpops loadtest" in result.output, args
        assert "Exit codes: 0 " in result.output, args
