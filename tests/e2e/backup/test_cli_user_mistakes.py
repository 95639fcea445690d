"""What a new user met with `erpops backup` on SQLite (issue 12), run as they ran it: the real CLI in a subprocess.

A missing --scratch folder, help text that lost "[backup]", a verify summary that did not say what was bad
or whether the backup could still be restored, and the exit codes that go with each.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from erpcore.db import make_engine
from erpcore.migrate import upgrade
from tests.e2e.backup.test_cli import COMMANDS

ROOT = Path(__file__).resolve().parents[3]


def erpops(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m erpops ...` as a user types it, in a fresh process."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run(
        [sys.executable, "-m", "erpops", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path / 'erp.sqlite'}")
    upgrade(engine)
    engine.dispose()
    path = tmp_path / "erpops.toml"
    path.write_text(
        f'[backup]\ndatabase_url = "sqlite:///{tmp_path / "erp.sqlite"}"\n'
        f'[[backup.sites]]\nname = "a"\npath = "{tmp_path / "a"}"\n'
        f'[[backup.sites]]\nname = "b"\npath = "{tmp_path / "b"}"\n'
    )
    return path


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_drill_with_a_missing_scratch_folder_is_one_line_and_exit_2(config: Path) -> None:
    done = erpops("backup", "drill", "--config", str(config), "--scratch", "/missing/folder")
    assert done.returncode == 2
    line = one_error_line(done)
    assert "--scratch /missing/folder: no such directory" in line and "create it" in line
    assert done.stdout == ""


def test_drill_with_a_scratch_file_not_a_folder_is_refused_too(config: Path, tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    done = erpops("backup", "drill", "--config", str(config), "--scratch", str(tmp_path / "afile"))
    assert done.returncode == 2 and "no such directory" in one_error_line(done)


@pytest.mark.parametrize("command", COMMANDS)
def test_config_help_shows_the_backup_section_name(command: str) -> None:
    from erpops.cli import app

    result = CliRunner().invoke(app, ["backup", command, "--help"], terminal_width=200)
    assert result.exit_code == 0
    assert "erpops.toml with a [backup] section" in result.stdout, result.stdout
    assert "a  section" not in result.stdout and "\\[backup]" not in result.stdout


def test_config_help_in_a_real_terminal_run_keeps_backup() -> None:
    done = erpops("backup", "verify", "--help")
    assert done.returncode == 0 and "with a [backup] section" in done.stdout, done.stdout


def _backup(config: Path) -> str:
    done = erpops("backup", "create", "--config", str(config), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout)["backup_id"])


def test_verify_names_the_bad_copy_and_says_the_backup_is_still_restorable(
    config: Path, tmp_path: Path
) -> None:
    backup_id = _backup(config)
    (tmp_path / "b" / "backups" / backup_id / "database.sqlite").write_bytes(b"rot")

    done = erpops("backup", "verify", "--config", str(config), "--quiet")
    assert done.returncode == 3, (done.stdout, done.stderr)  # DEGRADED: restorable from a
    assert "Traceback" not in done.stderr

    done = erpops("backup", "verify", "--config", str(config))
    summary = " ".join(done.stderr.split())
    assert done.returncode == 3
    assert f"backup {backup_id}: the copy on site b is BAD" in summary
    assert "still restorable from site a" in summary and "1 of 1 backups still restorable" in summary

    done = erpops("backup", "verify", "--config", str(config), "--json", "--quiet")
    report = json.loads(done.stdout)
    assert done.returncode == 3 and done.stderr == ""
    assert report["status"] == "degraded" and not report["ok"]
    assert [c["site"] for c in report["bad"]] == ["b"]
    assert report["backups"][0]["good"] and report["backups"][0]["file_sites"] == ["a"]

    restored = tmp_path / "restored.sqlite"
    done = erpops("backup", "restore", "--config", str(config), "--to", str(restored), "--json", "--quiet")
    assert done.returncode == 0 and json.loads(done.stdout)["site"] == "a" and restored.stat().st_size > 0


def test_verify_fails_when_no_site_holds_a_good_copy(config: Path, tmp_path: Path) -> None:
    backup_id = _backup(config)
    for site in ("a", "b"):
        (tmp_path / site / "backups" / backup_id / "database.sqlite").write_bytes(b"rot")
    done = erpops("backup", "verify", "--config", str(config), "--json", "--quiet")
    report = json.loads(done.stdout)
    assert done.returncode == 1 and report["status"] == "failed"
    assert f"backup {backup_id} is NOT restorable" in report["reason"]
    assert "the copy on site a is BAD" in report["reason"] and "the copy on site b is BAD" in report["reason"]


def test_verify_of_healthy_sites_exits_0_and_says_so(config: Path) -> None:
    _backup(config)
    done = erpops("backup", "verify", "--config", str(config), "--json", "--quiet")
    report = json.loads(done.stdout)
    assert (
        done.returncode == 0 and report["status"] == "ok" and "1 of 1 backups restorable" in report["reason"]
    )


def test_a_point_in_time_for_a_sqlite_backup_is_a_usage_error(config: Path, tmp_path: Path) -> None:
    _backup(config)
    done = erpops(
        "backup",
        "restore",
        "--config",
        str(config),
        "--to",
        str(tmp_path / "x.sqlite"),
        "--time",
        "2025-03-01T12:00:00+00:00",
    )
    assert done.returncode == 2 and "needs PostgreSQL" in one_error_line(done)
    assert not (tmp_path / "x.sqlite").exists()


@pytest.mark.parametrize(
    ("option", "value"), [("--time", "yesterday noon"), ("--xid", "abc"), ("--lsn", "0-3")]
)
def test_a_malformed_recovery_target_is_one_line_and_exit_2(
    config: Path, tmp_path: Path, option: str, value: str
) -> None:
    done = erpops("backup", "restore", "--config", str(config), "--to", str(tmp_path / "pg"), option, value)
    assert done.returncode == 2
    assert f"{option} {value!r} is not a valid" in one_error_line(done)


def test_two_recovery_targets_are_one_line_and_exit_2(config: Path, tmp_path: Path) -> None:
    done = erpops(
        "backup",
        "restore",
        "--config",
        str(config),
        "--to",
        str(tmp_path / "pg"),
        "--xid",
        "5",
        "--immediate",
    )
    assert done.returncode == 2 and "choose one of" in one_error_line(done)


@pytest.mark.parametrize("command", [["list"], ["status"], ["prune", "--dry-run"], ["verify"], ["catch-up"]])
def test_json_is_valid_and_alone_on_stdout(config: Path, command: list[str]) -> None:
    _backup(config)
    done = erpops("backup", *command, "--config", str(config), "--json", "--quiet")
    assert done.returncode == 0, done.stderr
    json.loads(done.stdout)
    assert done.stderr == ""
