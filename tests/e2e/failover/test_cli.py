"""`erpops failover` end to end: real clusters on loopback, the root CLI's exit codes, reports and alerts."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from sqlalchemy import select

from erpcore.models import OutboxMessage
from erpops.cli import main
from failover.cli import app
from tests.dbhelpers import sqlite_engine


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_info.value.code or 0), out, err


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    (tmp_path / "erpops.toml").write_text("")
    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path / "erpops.toml"))
    monkeypatch.setenv("ERPOPS_FAILOVER__WARMUP_SECONDS", "0.3")
    monkeypatch.setenv("ERPOPS_FAILOVER__SETTLE_SECONDS", "0.2")
    monkeypatch.setenv("ERPOPS_FAILOVER__CLIENTS", "2")
    monkeypatch.setenv("ERPOPS_FAILOVER__REJOIN_TIMEOUT", "20")
    return tmp_path


@pytest.mark.cluster
@pytest.mark.slow
def test_kill_drill_passes_and_writes_complete_reports(quick: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["failover", "drill", "--engine", "manual", "--fault", "kill", "--repeat", "2",
                        "--report-dir", str(quick / "reports"), "--json"], capsys)
    assert code == 0, out
    doc = json.loads(out)
    assert doc["ok"] is True and doc["summary"]["drills"] == 2
    assert doc["summary"]["lost_acknowledged"] == 0
    assert all(d["missing_marks"] == [] and d["rejoin"]["ok"] for d in doc["drills"])
    assert doc["summary"]["seconds"]["business_rto"]["p95"] < 10
    assert doc["metrics"]["erpops_failover_rpo_lost_acknowledged_commits"] == 0.0
    md = Path(doc["reports"][1]).read_text()
    assert "PASSED" in md and "back_in_sync" in md


@pytest.mark.cluster
@pytest.mark.slow
def test_a_failed_drill_exits_non_zero_and_raises_an_alert(
    quick: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite_engine(quick) as erp:
        monkeypatch.setenv("ERPOPS_DATABASE_URL", str(erp.url))
        code, out, err = run(["failover", "drill", "--fault", "kill", "--skip-checkpoint",
                              "--ballast-rows", "100000", "--report-dir", str(quick / "r")], capsys)
        assert code == 1
        assert "drills failed their targets" in err
        assert "FAILED" in out
        report = json.loads(next((quick / "r").glob("*.json")).read_text())
        assert "without a checkpoint" in report["drills"][0]["divergence"]
        with erp.connect() as conn:
            payloads = [row[0] for row in conn.execute(select(OutboxMessage.payload))]
    assert [p["alertname"] for p in payloads] == ["FailoverDrillFailed"]
    assert payloads[0]["labels"]["fault"] == "kill"


@pytest.mark.cluster
def test_lab_up_status_and_down_by_pid(quick: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["failover", "lab", "up", "--json"], capsys)
    assert code == 0
    lab = json.loads(out)["lab"]
    pids = [n["pid"] for n in json.loads(out)["nodes"]]
    try:
        code, out, _ = run(["failover", "status", "--lab", lab, "--json"], capsys)
        members = json.loads(out)["members"]
        assert [m["role"] for m in members] == ["primary", "standby"]
        assert members[1]["sync_state"] == "sync"
    finally:
        code, out, _ = run(["failover", "lab", "down", "--lab", lab, "--json"], capsys)
    assert code == 0 and sorted(json.loads(out)["stopped"]) == sorted(pids)
    assert not Path(lab).exists()
    assert not any(psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE for p in pids)


def test_an_unknown_load_is_a_usage_error_with_the_choices(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["failover", "drill", "--under-load", "locust"], capsys)
    assert code == 2  # a usage error exits 2 in failover as in every tool (it was 1)
    assert "'locust' is not one of 'builtin', 'o2c'" in err
    assert "Traceback" not in err


@pytest.mark.cluster
@pytest.mark.slow
def test_kill_drill_under_the_o2c_api_load(quick: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["failover", "drill", "--engine", "manual", "--fault", "kill", "--under-load", "o2c",
                        "--report-dir", str(quick / "reports"), "--json"], capsys)
    assert code == 0, out
    doc = json.loads(out)
    drill = doc["drills"][0]
    assert drill["ok"] and drill["rpo"] == 0
    # the fault waited for every client's first order (4 clients), and orders were taken after it too
    assert drill["attempts"]["acked_before_fault"] >= 4 and drill["attempts"]["acked"] > drill["attempts"]["acked_before_fault"]
    assert drill["check"]["ok"] and drill["check"]["checked"] > 10
    assert drill["seconds"]["business_rto"] < 10
    assert list((quick / "reports").glob("api-*.log"))  # the API process's own log, beside the reports


def test_init_writes_a_documented_patroni_config_for_three_members(capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    import yaml

    code, out, _ = run(["failover", "init", "--engine", "patroni", "--no-start", "--json"], capsys)
    doc = json.loads(out)
    try:
        assert code == 0 and doc["started"] is False
        configs = [Path(p) for p in doc["configs"]]
        assert len(configs) == 3
        text = configs[0].read_text()
        assert text.startswith("# erpops-generated Patroni configuration")
        assert yaml.safe_load(text)["bootstrap"]["dcs"]["synchronous_mode"] is True
    finally:
        shutil.rmtree(doc["dir"], ignore_errors=True)


def test_init_refuses_the_manual_engine(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["failover", "init", "--engine", "manual"], capsys)
    assert code == 2 and err.strip() == "error: only --engine patroni has a configuration to write; manual needs none"


@pytest.mark.parametrize("command", ["drill", "status", "promote", "init", "lab up", "lab down"])
def test_every_command_has_help_with_an_example(command: str) -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example: erpops failover" in result.output


def test_a_report_dir_that_is_a_file_is_a_usage_error_before_any_lab(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("")
    code, out, err = run(["failover", "drill", "--report-dir", str(blocker), "--json"], capsys)
    assert code == 2 and out == ""
    assert err.strip() == f"error: cannot write reports to {blocker}: File exists; pass a writable --report-dir"
