"""`erpops seed` end to end on SQLite: JSON summary, a database that passes `erpops check`, a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from erpops.cli import main


def _run(argv: list[str]) -> int:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    return int(exit_info.value.code or 0)


def test_seed_command_writes_history_and_refuses_to_write_it_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERPOPS_DATABASE_URL", f"sqlite:///{tmp_path / 'seed.sqlite'}")
    assert _run(["seed", "--years", "1", "--orders-per-day", "2", "--seed", "3", "--json", "-q"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["rows"]["sales_order"] > 500 and summary["total_rows"] == sum(summary["rows"].values())
    assert summary["seed"] == 3 and summary["open_documents"]["customer_invoice.unpaid"] > 0
    assert _run(["check", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert _run(["seed", "--years", "1", "--orders-per-day", "2", "-q"]) == 1
    assert "already holds data" in capsys.readouterr().err


def test_seed_command_renders_a_summary_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ERPOPS_DATABASE_URL", f"sqlite:///{tmp_path / 'seed.sqlite'}")
    assert _run(["seed", "--years", "1", "--orders-per-day", "1", "-q"]) == 0
    out = capsys.readouterr().out
    assert "sales_order" in out and "rows/s" in out and "still open" in out
