"""`erpops monitor ...` and `erpops runbook ...` through the root typer app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml
from typer.testing import CliRunner

from erpcore.exceptions import ConfigError
from erpops.cli import app
from tests.dbhelpers import sqlite_engine

runner = CliRunner()


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPOPS_MONITOR__STATE_DIR", str(tmp_path / "monitor"))
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file


def _commands() -> list[tuple[str, Any]]:
    root: Any = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []

    def walk(node: Any, path: str) -> None:
        if hasattr(node, "commands"):
            for name, sub in node.commands.items():
                walk(sub, f"{path} {name}")
        else:
            out.append((path.strip(), node))

    for group in ("monitor", "runbook"):
        walk(root.commands[group], group)
    return out


@pytest.mark.parametrize(("path", "command"), _commands(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_command_has_help_and_an_example(path: str, command: Any) -> None:
    assert command.help and "Example: erpops " + path in command.help


def test_rules_export_writes_a_prometheus_rule_file(tmp_path: Path) -> None:
    out = tmp_path / "erpops.rules.yml"
    result = runner.invoke(app, ["monitor", "rules", "export", "-o", str(out), "--interval", "15s"])
    assert result.exit_code == 0, result.output
    groups = yaml.safe_load(out.read_text())["groups"]
    assert {g["name"] for g in groups} == {"host", "postgres", "erp", "meta"}
    assert all(g["interval"] == "15s" for g in groups)


def test_rules_check_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("groups:\n- name: g\n  rules:\n  - {alert: A, expr: 'x', threshold: 1}\n")
    result = runner.invoke(app, ["monitor", "rules", "check", "--rules", str(bad)])
    assert isinstance(result.exception, ConfigError)
    assert "runbook_url is required" in result.exception.message
    assert runner.invoke(app, ["monitor", "rules", "check"]).exit_code == 0


def test_rules_list_json() -> None:
    result = runner.invoke(app, ["monitor", "rules", "list", "--json"])
    data = json.loads(result.stdout)
    assert {"Watchdog", "PostgresqlDown", "HostOutOfDiskSpace"} <= {r["alert"] for r in data}


def test_silence_add_list_expire() -> None:
    added = runner.invoke(app, ["monitor", "silence", "add", "alertname=HostHighCpuLoad", 'instance=~"db.*"',
                                "-a", "ana", "-c", "reindex", "-d", "2h", "--json"])
    assert added.exit_code == 0, added.output
    sid = json.loads(added.stdout)["id"]
    listed = json.loads(runner.invoke(app, ["monitor", "silence", "list", "--json"]).stdout)
    assert [(s["id"], s["state"], s["createdBy"]) for s in listed] == [(sid, "active", "ana")]
    assert runner.invoke(app, ["monitor", "silence", "expire", sid]).exit_code == 0
    assert json.loads(runner.invoke(app, ["monitor", "silence", "list", "--json"]).stdout) == []
    assert len(json.loads(runner.invoke(app, ["monitor", "silence", "list", "--expired", "--json"]).stdout)) == 1


def test_eval_and_probe_on_a_sqlite_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite_engine(tmp_path) as engine:
        monkeypatch.setenv("ERPOPS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        result = runner.invoke(app, ["monitor", "eval", "--json"])
        assert result.exit_code == 0, result.output
        states = {r["rule"]: r for r in json.loads(result.stdout)}
        assert states["Watchdog"]["state"] == "firing"
        assert states["PostgresqlDown"]["state"] == "inactive"
        assert states["PostgresqlDown"]["reason"].startswith("PostgresqlDown: 1 series, 0 firing")
        probe = json.loads(runner.invoke(app, ["monitor", "probe", "--json"]).stdout)
        assert probe["reason"].startswith("sqlite up")


def test_runbook_list() -> None:
    data = json.loads(runner.invoke(app, ["runbook", "list", "--json"]).stdout)
    assert {"alert": "PostgresqlDown", "component": "postgres", "path": "runbooks/postgres/PostgresqlDown.md"} in data


def test_run_is_bounded_and_streams_changes_as_json(tmp_path: Path) -> None:
    result = runner.invoke(app, ["monitor", "run", "--ticks", "2", "--interval", "1", "--no-database",
                                 "--no-listen", "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    firing = {(c["subject"], c["kind"]) for c in lines}
    assert ("Watchdog", "firing") in firing and ("ErpLastBackupTooOld", "firing") in firing
    assert len(lines) == len(firing)  # the second tick changed nothing, so it printed nothing
    assert set(lines[0]) == {"at", "kind", "subject", "labels", "reason"}


def test_run_serves_metrics_on_the_listen_port(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    from opskit.ports import free_port

    port = free_port()
    monkeypatch.setenv("ERPOPS_MONITOR__LISTEN_PORT", str(port))
    scraped: list[str] = []

    from monitor import service

    original = service.Monitor.tick

    def tick(self: service.Monitor) -> service.TickResult:
        result = original(self)
        if len(scraped) == 0 and self.evaluations:
            scraped.append("pending")
        elif scraped == ["pending"]:
            scraped[0] = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
        return result

    monkeypatch.setattr(service.Monitor, "tick", tick)
    result = runner.invoke(app, ["monitor", "run", "--ticks", "2", "--interval", "1", "--no-database"])
    assert result.exit_code == 0, result.output
    assert 'erpops_monitor_rule_state{alertname="Watchdog"} 2.0' in scraped[0]
    assert "erpops_host_cpu_usage_ratio" in scraped[0]
