"""`erpops backup` end to end on SQLite with two local sites: create, list, status, verify, prune, restore, drill."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from backup.cli import app
from erpcore.db import make_engine
from erpcore.migrate import upgrade

COMMANDS = [
    "create",
    "list",
    "status",
    "verify",
    "restore",
    "drill",
    "prune",
    "catch-up",
    "wal-push",
    "wal-fetch",
    "wal-stream",
    "restore-table",
    "restore-dump",
]
runner = CliRunner()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    engine = make_engine(f"sqlite:///{tmp_path / 'erp.sqlite'}")
    upgrade(engine)
    engine.dispose()
    path = tmp_path / "erpops.toml"
    path.write_text(
        f'[backup]\ndatabase_url = "sqlite:///{tmp_path / "erp.sqlite"}"\nencryption_key = "{"ab" * 32}"\n'
        "[backup.retention]\nkeep_count = 1\nkeep_days = 0\n"
        f'[[backup.sites]]\nname = "a"\npath = "{tmp_path / "a"}"\n'
        f'[[backup.sites]]\nname = "b"\npath = "{tmp_path / "b"}"\n'
    )
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help_with_an_example(command: str) -> None:
    code, out = run(command, "--help")
    assert code == 0 and "Example:" in out


def test_backup_lifecycle_on_two_sites(config: Path, tmp_path: Path) -> None:
    c = ["--config", str(config)]
    ids = []
    for _ in range(3):
        code, out = run("create", *c, "--json", "--quiet")
        assert code == 0, out
        data = json.loads(out)
        assert data["sites"] == {"a": "ok", "b": "ok"} and not data["degraded"]
        ids.append(data["backup_id"])
    code, out = run("list", *c, "--json")
    assert [b["backup_id"] for b in json.loads(out)] == ids
    assert all(b["encrypted"] and b["sites"] == ["a", "b"] for b in json.loads(out))

    code, out = run("prune", *c, "--dry-run", "--json")
    plans = json.loads(out)
    assert code == 0 and all(len(p["delete"]) == 2 and p["deleted_objects"] == 0 for p in plans)
    assert len(list((tmp_path / "a" / "backups").iterdir())) == 3
    code, out = run("prune", *c, "--json")
    assert code == 0 and sorted(p.name for p in (tmp_path / "a" / "backups").iterdir()) == [ids[-1]]

    code, out = run("verify", *c, "--json", "--quiet")
    assert code == 0 and json.loads(out)["ok"]
    code, out = run("status", *c, "--metrics")
    assert 'erpops_backup_site_up{site="a"} 1.0' in out and "erpops_backup_size_bytes" in out

    code, out = run("restore", *c, "--to", str(tmp_path / "restored.sqlite"), "--json", "--quiet")
    assert code == 0 and json.loads(out)["backup_id"] == ids[-1]
    assert (tmp_path / "restored.sqlite").stat().st_size > 0

    code, out = run("drill", *c, "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], report
    assert [s["name"] for s in report["steps"]] == [
        "choose backup",
        "restore",
        "erpops check",
        "integrity summary",
    ]


def test_degraded_backup_exits_3_and_drill_failure_exits_1(config: Path, tmp_path: Path) -> None:
    (tmp_path / "b").write_text("a file where the site directory should be")
    code, out = run("create", "--config", str(config), "--json", "--quiet")
    assert code == 3 and json.loads(out)["sites"]["b"].startswith("failed")
    backup_id = json.loads(out)["backup_id"]
    (tmp_path / "a" / "backups" / backup_id / "database.sqlite").write_bytes(b"rot")
    code, out = run("drill", "--config", str(config), "--site", "a", "--json")
    assert code == 1 and not json.loads(out)["ok"]
    assert json.loads(out)["alert"] == "BackupDrillFailed alert recorded"


def test_wrong_key_is_one_line_and_exit_1(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from erpops.cli import main

    assert run("create", "--config", str(config), "--quiet")[0] == 0
    config.write_text(config.read_text().replace("ab" * 32, "cd" * 32))
    with pytest.raises(SystemExit) as exit_info:
        main(["backup", "restore", "--config", str(config), "--to", str(tmp_path / "x.sqlite"), "--quiet"])
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert (
        err.startswith("error: backup") and "was encrypted with key id" in err and len(err.splitlines()) <= 2
    )


def test_wal_push_then_fetch_round_trips_encrypted(config: Path, tmp_path: Path) -> None:
    segment = tmp_path / "000000010000000000000007"
    segment.write_bytes(os.urandom(64 * 1024))
    code, _ = run("wal-push", str(segment), "--config", str(config))
    assert code == 0
    stored = list((tmp_path / "a" / "wal").iterdir())
    assert len(stored) == 1 and stored[0].name.startswith(segment.name + "-")
    assert segment.read_bytes() not in stored[0].read_bytes()
    assert (
        run("wal-push", str(segment), "--config", str(config))[0] == 0
    )  # archive_command retries are idempotent
    assert len(list((tmp_path / "b" / "wal").iterdir())) == 1
    (tmp_path / "a" / "wal" / stored[0].name).write_bytes(b"rotten")
    dest = tmp_path / "pg_wal" / "RECOVERYXLOG"
    dest.parent.mkdir()
    code, _ = run("wal-fetch", segment.name, str(dest), "--config", str(config))
    assert code == 0 and dest.read_bytes() == segment.read_bytes()
    code, _ = run("status", "--config", str(config), "--json")
    assert {s["site"]: s["last_wal"] for s in json.loads(_)} == {"a": segment.name, "b": segment.name}


def test_create_with_progress_bars(config: Path) -> None:
    code, out = run("create", "--config", str(config))
    assert code == 0 and "ok" in out and "state" in out


def test_catch_up_then_verify_makes_a_degraded_site_whole(config: Path, tmp_path: Path) -> None:
    (tmp_path / "b").write_text("site b is down")
    code, out = run("create", "--config", str(config), "--json", "--quiet")
    assert code == 3
    (tmp_path / "b").unlink()
    code, out = run("catch-up", "--config", str(config), "--verify", "--json", "--quiet")
    data = json.loads(out)
    assert code == 0 and data["verify"]["ok"], data
    copied = {s["site"]: s["copied"] for s in data["sites"]}
    assert copied["a"] == [] and len(copied["b"]) == 2  # the SQLite file and the manifest
    (tmp_path / "b" / copied["b"][0]).write_bytes(b"rot")
    code, out = run("catch-up", "--config", str(config), "--verify", "--json", "--quiet")
    verdict = json.loads(out)["verify"]
    assert code == 3 and verdict["status"] == "degraded" and not verdict["ok"]  # still restorable from a
    assert (
        "the copy on site b is BAD" in verdict["reason"]
        and "still restorable from site a" in verdict["reason"]
    )


def test_logical_dump_of_sqlite_is_refused_with_a_clear_message(config: Path) -> None:
    result = runner.invoke(app, ["create", "--config", str(config), "--logical", "--quiet"])
    assert result.exit_code != 0
    assert "logical dumps are for PostgreSQL" in str(result.exception)
