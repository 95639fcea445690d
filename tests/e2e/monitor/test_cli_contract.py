"""`erpops monitor` and `erpops runbook` as a user runs them: the README's commands, the natural mistakes
(one `error:` line, exit 2; a database that does not answer, exit 4), valid `--json`, and `run` printing changes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from erpops.cli import main
from monitor.rules import all_rules, load_rules
from opskit.ports import free_port
from opskit.proc import answers
from tests.dbhelpers import sqlite_engine

SHIPPED = len(all_rules(load_rules()))  # the rules erpops ships

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("ERPOPS_MONITOR__STATE_DIR", str(tmp_path / "monitor"))
    (tmp_path / "erpops.toml").write_text("")
    monkeypatch.setenv("ERPOPS_CONFIG", str(tmp_path / "erpops.toml"))
    monkeypatch.setenv("ERPOPS_MONITOR__LISTEN_PORT", str(free_port()))
    monkeypatch.chdir(tmp_path)
    with sqlite_engine(tmp_path) as engine:
        monkeypatch.setenv("ERPOPS_DATABASE_URL", engine.url.render_as_string(hide_password=False))
        yield tmp_path


def erpops(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the root CLI in-process as the console script does: (exit code, stdout, stderr)."""
    capsys.readouterr()
    try:
        main(list(argv))
    except SystemExit as done:
        code = int(done.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    return lines[0]


# The README's own commands (section "The tools"), as written.
def test_readme_silence_add(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops("monitor", "silence", "add", "alertname=HostHighCpuLoad", "-a", "ana", "-c",
                            "maintenance", "-d", "2h", capsys=capsys)
    assert code == 0, err
    assert out.startswith("silence ") and " until " in out


def test_readme_rules_export_and_runbook_show(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = erpops("monitor", "rules", "export", "-o", "rules.yml", capsys=capsys)
    assert code == 0, err
    text = (isolated / "rules.yml").read_text()
    assert "/graph" not in text and "runbook_url: http://127.0.0.1:8000/api/monitor/runbooks/PostgresqlDown" in text
    assert "absent(erpops_backup_last_success_timestamp_seconds)" in text
    code, out, _ = erpops("runbook", "show", "PostgresqlDown", "--raw", capsys=capsys)
    assert code == 0 and "`erpops failover promote`" in out


def test_readme_monitor_run_prints_changes_naming_the_alerts_then_stops_on_ctrl_c(isolated: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "erpops", "monitor", "run", "--duration", "60"], cwd=isolated,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(6.0)  # five or six evaluations at the default 1 s interval
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    lines = out.splitlines()
    assert f"{SHIPPED} rules every 1s" in err and "rules, 1 firing" not in out + err
    named = {line.split()[1].split("{")[0] for line in lines}
    assert {"Watchdog", "ErpLastBackupTooOld"} <= named
    assert all(" firing: " in line or " resolved: " in line or " rule-" in line or " source-" in line
               for line in lines), lines
    assert len(lines) == len({line.split(" ", 1)[1] for line in lines})  # nothing repeated each second
    assert "Traceback" not in err


# The natural mistakes: one line, exit 2 (usage), nothing written.
@pytest.mark.parametrize(("argv", "says"), [
    (["monitor", "silence", "add", "alertname=HostHighCpuLoad", "-a", "ana", "-c", "c", "-d", "30d"], "at most 7d"),
    (["monitor", "silence", "add", "alertname=HostHighCpuLoad", "-a", "ana", "-c", "c", "-d", "soon"], "duration"),
    (["monitor", "silence", "add", "x~1", "-a", "ana", "-c", "c"], "not a matcher"),
    (["monitor", "silence", "add", "severity=critical", "-a", "ana", "-c", "c"], "--confirm-all-critical"),
    (["monitor", "silence", "add", "alertname=~(a", "-a", "ana", "-c", "c"], "bad regex"),
    (["monitor", "silence", "add", "alertname=X", "-a", " ", "-c", "c"], "author"),
    (["monitor", "silence", "expire", "no-such-id"], "no silence"),
    (["runbook", "show", "NoSuchAlert"], "no runbook"),
    (["monitor", "run", "--interval", "0.5", "--no-listen"], "at least 1 second"),
    (["monitor", "rules", "export", "--interval", "often"], "duration"),
])
def test_usage_errors_are_one_line_and_exit_2(argv: list[str], says: str, isolated: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops(*argv, capsys=capsys)
    assert code == 2 and out == ""
    assert says in one_error_line(err)
    assert not (isolated / "monitor" / "silences.json").exists()


@pytest.mark.parametrize("expr", ["absent(", "sum by (instance"])  # the second one used to loop forever
def test_rules_check_of_a_broken_file_is_exit_2(expr: str, isolated: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    bad = isolated / "bad.yaml"
    bad.write_text(f"groups:\n- name: g\n  rules:\n  - {{alert: A, expr: '{expr}', threshold: 1, "
                   "annotations: {runbook_url: r}}\n")
    code, _, err = erpops("monitor", "rules", "check", "--rules", str(bad), capsys=capsys)
    assert code == 2 and "expr does not parse" in one_error_line(err)


def test_all_critical_silence_is_created_when_confirmed(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops("monitor", "silence", "add", "severity=critical", "-a", "ana", "-c", "DC move",
                            "-d", "2h", "--confirm-all-critical", "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out)["matchers"] == [{"name": "severity", "value": "critical", "isRegex": False,
                                            "isEqual": True}]


def test_the_redos_matcher_is_accepted_and_listed_quickly(capsys: pytest.CaptureFixture[str]) -> None:
    started = time.perf_counter()
    code, _, err = erpops("monitor", "silence", "add", 'alertname=~"(.*.*)*X"', "-a", "ana", "-c", "c",
                          capsys=capsys)
    assert code == 0, err
    code, out, _ = erpops("monitor", "eval", "--no-database", "--json", capsys=capsys)
    assert code == 0 and time.perf_counter() - started < 20
    assert {r["rule"] for r in json.loads(out)} >= {"Watchdog"}


def test_probe_of_a_database_that_does_not_answer_is_exit_4(monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("ERPOPS_DATABASE_URL", f"postgresql://postgres@127.0.0.1:{free_port()}/none")
    code, out, err = erpops("monitor", "probe", "--json", capsys=capsys)
    assert code == 4
    assert json.loads(out)["samples"][0] == {"name": "erpops_db_up", "labels": "backend=postgresql", "value": 0.0}
    assert "does not answer: connection failed" in one_error_line(err)


# Every command that shows data gives valid JSON with --json.
@pytest.mark.parametrize("argv", [
    ["monitor", "eval", "--no-database"], ["monitor", "probe"], ["monitor", "rules", "list"],
    ["monitor", "rules", "check"], ["monitor", "silence", "list"], ["monitor", "silence", "list", "--expired"],
    ["runbook", "list"], ["runbook", "show", "PostgresqlDown"],
    ["monitor", "silence", "add", "alertname=HostHighCpuLoad", "-a", "ana", "-c", "c"],
])
def test_json_is_valid_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops(*argv, "--json", capsys=capsys)
    assert code == 0, err
    assert json.loads(out) is not None


def test_silence_expire_json(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = erpops("monitor", "silence", "add", "alertname=HostHighCpuLoad", "-a", "ana", "-c", "c", "--json",
                       capsys=capsys)
    sid = json.loads(out)["id"]
    code, out, _ = erpops("monitor", "silence", "expire", sid, "--json", capsys=capsys)
    assert code == 0 and json.loads(out)["id"] == sid


def test_run_json_is_one_change_per_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops("monitor", "run", "--ticks", "2", "--no-database", "--no-listen", "--json",
                            capsys=capsys)
    assert code == 0, err
    changes = [json.loads(line) for line in out.splitlines()]
    assert {c["subject"] for c in changes if c["kind"] == "firing"} >= {"Watchdog", "ErpLastBackupTooOld"}


# ErpLastBackupTooOld: no backup at all fires; a fresh one does not. Custom rules may use absent() and irate().
def test_no_backup_at_all_fires_erp_last_backup_too_old(isolated: Path, monkeypatch: pytest.MonkeyPatch,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = erpops("monitor", "eval", "--no-database", "--json", capsys=capsys)
    state = {r["rule"]: r for r in json.loads(out)}["ErpLastBackupTooOld"]
    assert state["state"] == "firing" and "+Inf" not in state["reason"] and "inf" in state["reason"]
    textfiles = isolated / "textfiles"
    textfiles.mkdir()
    (textfiles / "backup.prom").write_text(
        f'erpops_backup_last_success_timestamp_seconds{{site="local"}} {time.time() - 60}\n')
    monkeypatch.setenv("ERPOPS_MONITOR__TEXTFILE_DIRS", json.dumps([str(textfiles)]))
    _, out, _ = erpops("monitor", "eval", "--no-database", "--json", capsys=capsys)
    assert {r["rule"]: r["state"] for r in json.loads(out)}["ErpLastBackupTooOld"] == "inactive"


def test_custom_rules_with_absent_and_irate(isolated: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rules = isolated / "custom.yaml"
    rules.write_text("""groups:
- name: custom
  rules:
  - alert: NightlyJobMissing
    expr: absent(erpops_job_last_run_timestamp_seconds{job="nightly"})
    op: ">"
    threshold: 0
    labels: {severity: warning}
    annotations: {runbook_url: https://wiki.example/NightlyJobMissing}
  - alert: RequestsBursting
    expr: sum(irate(erpops_http_requests_total[1m])) or vector(0)
    op: ">"
    threshold: 1000
    labels: {severity: warning}
    annotations: {runbook_url: https://wiki.example/RequestsBursting}
""")
    code, out, err = erpops("monitor", "rules", "check", "--rules", str(rules), capsys=capsys)
    assert code == 0 and "2 rules OK" in out, err
    code, out, err = erpops("monitor", "eval", "--rules", str(rules), "--no-database", "--json", capsys=capsys)
    states = {r["rule"]: r for r in json.loads(out)}
    assert states["NightlyJobMissing"]["state"] == "firing"
    assert states["NightlyJobMissing"]["reason"].startswith("NightlyJobMissing: 1 series, 1 firing")
    assert states["RequestsBursting"]["state"] == "inactive"
    code, out, _ = erpops("monitor", "rules", "list", "--rules", str(rules), "--json", capsys=capsys)
    assert [r["runbook_url"] for r in json.loads(out)] == ["https://wiki.example/NightlyJobMissing",
                                                           "https://wiki.example/RequestsBursting"]


def test_run_stopped_by_sigterm_exits_143_and_frees_its_port(isolated: Path) -> None:
    import socket

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_MONITOR__LISTEN_PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "-m", "erpops", "monitor", "run", "--duration", "60"], cwd=isolated,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    metrics = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not answers(metrics, timeout=0.5):
            time.sleep(0.1)
        assert answers(metrics), "the monitor never served /metrics"
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143 and "terminated" in err and "Traceback" not in err
    with socket.socket() as sock:  # nothing of the monitor still listens there (TIME_WAIT may linger)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", port))
        sock.listen()


def test_run_when_the_metrics_port_is_taken_is_exit_4(monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        monkeypatch.setenv("ERPOPS_MONITOR__LISTEN_PORT", str(taken.getsockname()[1]))
        code, out, err = erpops("monitor", "run", "--ticks", "1", "--no-database", capsys=capsys)
    assert code == 4 and out == ""
    line = one_error_line(err)
    assert "cannot serve /metrics on 127.0.0.1:" in line and "--no-listen" in line


def test_an_unknown_receiver_kind_names_the_known_ones() -> None:
    from monitor.notifiers import NOTIFIERS, MemoryNotifier, make_notifier

    assert isinstance(make_notifier("memory"), MemoryNotifier)
    with pytest.raises(ValueError, match="unknown receiver kind 'pager' \\(webhook, alertmanager, memory\\)"):
        make_notifier("pager")
    assert set(NOTIFIERS) == {"webhook", "alertmanager", "memory"}


# The tables people read.
def test_silence_list_table_shows_matchers_window_and_author(capsys: pytest.CaptureFixture[str]) -> None:
    erpops("monitor", "silence", "add", "alertname=HostHighCpuLoad", 'instance=~"db.*"', "-a", "ana", "-c",
           "reindex", "-d", "2h", capsys=capsys)
    code, out, _ = erpops("monitor", "silence", "list", capsys=capsys)
    assert code == 0
    assert 'alertname="HostHighCpuLoad" instance=~"db.*"' in out
    assert "active" in out and "ana" in out and "reindex" in out


@pytest.mark.parametrize(("argv", "shows"), [
    (["monitor", "rules", "list"], "http://127.0.0.1:8000/api/monitor/runbooks/PostgresqlDown"),
    (["monitor", "eval", "--no-database"], "ErpLastBackupTooOld"),
    (["monitor", "probe"], "erpops_db_up"),
    (["runbook", "list"], "runbooks/postgres/PostgresqlDown.md"),
    (["monitor", "rules", "check"], f"{SHIPPED} rules OK"),
])
def test_tables_for_people(argv: list[str], shows: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops(*argv, capsys=capsys)
    assert code == 0, err
    assert shows in out


def test_rules_export_to_a_folder_that_does_not_exist_is_exit_2(isolated: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = erpops("monitor", "rules", "export", "-o", str(isolated / "no" / "such" / "rules.yml"),
                            capsys=capsys)
    assert code == 2 and out == ""
    assert "cannot write" in one_error_line(err)


def test_rules_export_to_stdout_is_the_rule_file(capsys: pytest.CaptureFixture[str]) -> None:
    import yaml

    code, out, _ = erpops("monitor", "rules", "export", "--interval", "15s", capsys=capsys)
    groups = yaml.safe_load(out)["groups"]
    assert code == 0 and all(g["interval"] == "15s" for g in groups)
    rules = {r["alert"]: r for g in groups for r in g["rules"]}
    assert rules["ErpLastBackupTooOld"]["expr"].startswith("(time() - erpops_backup_last_success_timestamp_seconds "
                                                          "or absent(")
