"""`erpops archive` through the CLI: bad input is one `error:` line and exit 2; a run, verify and restore."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from erpcore.db import make_engine
from erpcore.migrate import upgrade
from tests.integration.archive.conftest import seed_into

ROOT = Path(__file__).resolve().parents[3]


def erpops(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_DATABASE_URL": f"sqlite:///{cwd}/erp.sqlite",
            "ERPOPS_CONFIG": str(cwd / "none.toml"), **(env or {})}
    return subprocess.run([sys.executable, "-m", "erpops", *args], cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("archive-cli")
    engine = make_engine(f"sqlite:///{folder}/erp.sqlite")
    upgrade(engine)
    seed_into(engine, days=3 * 365)
    engine.dispose()
    return folder


def _one_error(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


@pytest.mark.parametrize(("args", "words"), [
    (["--family", "payroll"], "unknown archive policy 'payroll'"),
    (["--residence-years", "0.5"], "under 1 year; pass --force"),
    (["--family", "sales_orders", "--residence-years", "-1"], "must be positive"),
    (["--closed-through", "yesterday"], "is not a date"),
])
def test_bad_input_is_one_error_line_and_exit_2(seeded: Path, args: list[str], words: str) -> None:
    for command in ("plan", "run"):
        line = _one_error(erpops("archive", command, "--destination", f"sqlite:///{seeded}/a.sqlite", *args,
                                 cwd=seeded))
        assert words in line
    assert not (seeded / "a.sqlite").exists() or (seeded / "a.sqlite").stat().st_size == 0


def test_a_destination_that_is_the_source_is_refused(seeded: Path) -> None:
    for url in (f"sqlite:///{seeded}/erp.sqlite", f"sqlite:///{seeded}/./erp.sqlite"):
        line = _one_error(erpops("archive", "run", "--destination", url, cwd=seeded))
        assert "is the source database" in line


def test_no_destination_and_a_bad_duration_are_usage_errors(seeded: Path) -> None:
    assert "no archive destination" in _one_error(erpops("archive", "plan", cwd=seeded))
    assert "not a duration" in _one_error(erpops("archive", "run", "--destination", f"sqlite:///{seeded}/b.sqlite",
                                                 "--max-duration", "soon", cwd=seeded))


def test_force_allows_a_short_residence(seeded: Path) -> None:
    proc = erpops("archive", "plan", "--destination", f"sqlite:///{seeded}/c.sqlite", "--family", "sales_orders",
                  "--residence-years", "0.5", "--force", "--json", cwd=seeded)
    assert proc.returncode == 0, proc.stderr
    plan = json.loads(proc.stdout)
    assert plan["families"][0]["residence_years"] == 0.5


def test_run_bounded_then_resumed_verify_show_restore(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/erp.sqlite")
    upgrade(engine)
    seed_into(engine, days=3 * 365)
    engine.dispose()
    dest = ["--destination", f"sqlite:///{tmp_path}/archive.sqlite"]
    first = erpops("archive", "run", *dest, "--max-rows", "300", "--batch-size", "20", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    bounded = json.loads(first.stdout)
    assert bounded["state"] == "stopped" and "--max-rows 300" in bounded["reason"]
    second = json.loads(erpops("archive", "run", *dest, "--json", "-q", cwd=tmp_path).stdout)
    assert second["resumed"] and second["state"] == "done" and second["check_ok"]
    verified = erpops("archive", "verify", *dest, "--json", cwd=tmp_path)
    assert verified.returncode == 0 and json.loads(verified.stdout)["ok"]
    status = json.loads(erpops("archive", "status", *dest, "--json", cwd=tmp_path).stdout)
    assert status["rows"]["sales_orders"] > 0
    metrics = erpops("archive", "status", *dest, "--prometheus", cwd=tmp_path).stdout
    assert 'erpops_archive_backlog_documents{family="sales_orders"} 0.0' in metrics
    import sqlite3

    number = sqlite3.connect(tmp_path / "archive.sqlite").execute("SELECT MIN(number) FROM sales_order").fetchone()[0]
    shown = json.loads(erpops("archive", "show", number, *dest, "--json", cwd=tmp_path).stdout)
    assert shown["where"] == "archive" and shown["rows"]["sales_order"][0]["number"] == number
    assert shown["rows"]["sales_order_line"]
    back = erpops("archive", "restore", *dest, "--document", number, "--json", cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    assert json.loads(back.stdout)["documents"] == 1
    again = erpops("archive", "show", number, *dest, cwd=tmp_path)
    assert "is in production" in again.stdout
    assert erpops("check", cwd=tmp_path).returncode == 0


def test_sigterm_stops_after_the_batch_in_flight_with_exit_143(tmp_path: Path) -> None:
    import signal
    import time

    engine = make_engine(f"sqlite:///{tmp_path}/erp.sqlite")
    upgrade(engine)
    seed_into(engine, days=3 * 365)
    engine.dispose()
    dest = ["--destination", f"sqlite:///{tmp_path}/archive.sqlite"]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_DATABASE_URL": f"sqlite:///{tmp_path}/erp.sqlite",
           "ERPOPS_CONFIG": str(tmp_path / "none.toml")}
    proc = subprocess.Popen([sys.executable, "-m", "erpops", "archive", "run", *dest, "--batch-size", "5",
                             "--sleep", "0.3", "--json", "-q"], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    time.sleep(6.0)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    stopped = json.loads(out)
    assert stopped["state"] == "stopped" and "signal" in stopped["reason"]
    verified = erpops("archive", "verify", *dest, "--json", cwd=tmp_path)
    assert verified.returncode == 0, verified.stdout
    assert json.loads(verified.stdout)["ok"]
