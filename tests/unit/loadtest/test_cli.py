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
