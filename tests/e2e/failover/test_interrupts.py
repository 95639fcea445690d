"""`erpops failover drill` stopped by SIGTERM (a CI timeout, `timeout`) or Ctrl-C leaves nothing behind.

Each test runs the README's drill command in a subprocess, waits for a progress line on stderr, sends the
signal, and then looks for what the drill started: no PostgreSQL process of its lab, no nftables table of
erpops, no lab directory; the exit code is 143 (SIGTERM) or 130 (SIGINT).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import pytest

from failover import isolation

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]
LAB = re.compile(r"lab: starting the \w+ lab in (\S+)")


@dataclass
class Drill:
    """A running `erpops failover drill` and the lines of its stderr so far."""

    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    reader: threading.Thread | None = None

    def wait_for(self, marker: str, timeout: float = 120) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if marker in line:
                    return line
            if self.proc.poll() is not None:
                break
            time.sleep(0.02)
        raise AssertionError(f"no {marker!r} on stderr (exit {self.proc.poll()}):\n" + "".join(self.lines))

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    def lab_dir(self) -> Path:
        match = LAB.search(self.wait_for("lab: starting"))
        assert match is not None
        return Path(match.group(1))


@pytest.fixture
def start(tmp_path: Path) -> Iterator[object]:
    started: list[Drill] = []
    (tmp_path / "erpops.toml").write_text("")  # no machine configuration leaks in

    def run(*args: str, engine: str = "manual") -> Drill:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_CONFIG": str(tmp_path / "erpops.toml"),
               "ERPOPS_FAILOVER__WARMUP_SECONDS": "1", "ERPOPS_FAILOVER__SETTLE_SECONDS": "0.3",
               "ERPOPS_FAILOVER__CLIENTS": "2", "COLUMNS": "200"}
        proc = subprocess.Popen([sys.executable, "-m", "erpops", "failover", "drill", "--engine", engine,
                                 *args, "--no-erp-check", "--report-dir", str(tmp_path / "reports")],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        drill = Drill(proc)
        assert proc.stderr is not None
        stream = proc.stderr
        drill.reader = threading.Thread(target=lambda: [drill.lines.append(line) for line in stream], daemon=True)
        drill.reader.start()
        started.append(drill)
        return drill

    yield run
    for drill in started:  # a failed assertion must not leave the drill running either
        if drill.proc.poll() is None:
            drill.proc.kill()
        drill.proc.wait(30)
        if drill.reader is not None:
            drill.reader.join(10)
        if drill.proc.stderr is not None:
            drill.proc.stderr.close()


def lab_processes(lab: Path) -> list[psutil.Process]:
    """Every live process naming the lab directory, with its children (postmasters and their backends)."""
    found: dict[int, psutil.Process] = {}
    for proc in psutil.process_iter():
        try:
            if any(str(lab) in arg for arg in proc.cmdline()):
                found[proc.pid] = proc
                found |= {c.pid: c for c in proc.children(recursive=True)}
        except psutil.Error:
            continue
    return [p for p in found.values() if _alive(p)]


def started_by(drill: Drill, lab: Path) -> list[psutil.Process]:
    """The lab's processes and every descendant of the drill (writers' helpers, the API, Patroni, etcd)."""
    try:
        children = psutil.Process(drill.proc.pid).children(recursive=True)
    except psutil.Error:
        children = []
    found = {p.pid: p for p in [*lab_processes(lab), *children] if _alive(p)}
    return list(found.values())


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def assert_nothing_left(drill: Drill, lab: Path, before: list[psutil.Process], code: int) -> None:
    code_seen = drill.proc.wait(90)
    if drill.reader is not None:
        drill.reader.join(10)  # every line of stderr read, up to its end
    assert code_seen == code, drill.stderr
    if code == 143:  # (typer turns Ctrl-C into a silent exit 130 before the root CLI can name it)
        assert "error: terminated; everything this command started was stopped" in drill.stderr
    assert "Traceback" not in drill.stderr
    assert [p.pid for p in before if _alive(p)] == []
    assert lab_processes(lab) == []
    assert not lab.exists()
    nft = shutil.which("nft") or "/usr/sbin/nft"
    tables = subprocess.run([nft, "list", "tables"], capture_output=True, text=True, check=True).stdout
    assert f"{isolation.PREFIX}{drill.proc.pid}_" not in tables
    assert isolation.leftover_tables() == []


def test_sigterm_while_the_lab_is_being_built_stops_what_was_started(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "kill")
    lab = drill.lab_dir()
    time.sleep(0.8)  # initdb or pg_basebackup is running now
    before = started_by(drill, lab)
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


def test_sigterm_after_the_primary_was_killed_stops_both_servers(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "kill")
    lab = drill.lab_dir()
    drill.wait_for("  fault: kill -9")
    before = started_by(drill, lab)
    assert before, "the standby and the writer's backends run now"
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


def test_sigterm_during_the_rejoin_stops_both_servers(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "kill")
    lab = drill.lab_dir()
    drill.wait_for("  old_primary_rewound:")
    before = started_by(drill, lab)
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


def test_sigterm_while_the_primary_is_isolated_lifts_the_nftables_table(start) -> None:  # type: ignore[no-untyped-def]
    if isolation.unavailable():
        pytest.skip(f"isolation unavailable: {isolation.unavailable()}")
    drill = start("--fault", "isolate")
    lab = drill.lab_dir()
    drill.wait_for("  fault:")
    assert any(t.startswith(f"{isolation.PREFIX}{drill.proc.pid}_") for t in isolation.tables())
    before = started_by(drill, lab)
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


def test_ctrl_c_after_the_lab_is_ready_stops_it(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "hang")
    lab = drill.lab_dir()
    drill.wait_for("  fault: SIGSTOP")  # the primary's processes are stopped: clean-up must resume them
    before = started_by(drill, lab)
    drill.proc.send_signal(signal.SIGINT)
    assert_nothing_left(drill, lab, before, 130)


def test_a_drill_lifts_the_tables_a_killed_drill_left(start) -> None:  # type: ignore[no-untyped-def]
    if isolation.unavailable():
        pytest.skip(f"isolation unavailable: {isolation.unavailable()}")
    gone = subprocess.Popen(["true"])
    gone.wait()
    table = f"{isolation.PREFIX}{gone.pid}_1"  # as if a drill with that PID was killed with SIGKILL
    added = subprocess.run([isolation.nft_path() or "nft", "-f", "-"], input=isolation.rules(table, [9]),
                           capture_output=True, text=True, check=False)
    assert added.returncode == 0, added.stderr
    try:
        drill = start("--fault", "kill")
        assert table in drill.wait_for("lifted isolation tables left by killed drills")
        lab = drill.lab_dir()
        assert table not in isolation.tables()
        drill.proc.send_signal(signal.SIGTERM)
        assert_nothing_left(drill, lab, started_by(drill, lab), 143)
    finally:
        isolation.Cut(table, ()).lift()


@pytest.mark.skipif(not (shutil.which("patroni") and shutil.which("etcd")), reason="patroni and etcd not installed")
def test_sigterm_of_a_patroni_drill_stops_patroni_etcd_and_postgres(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "kill", engine="patroni")
    lab = drill.lab_dir()
    drill.wait_for("  fault:")
    before = started_by(drill, lab)
    names = {p.name() for p in before}
    assert {"etcd", "postgres"} <= names and any("patroni" in " ".join(p.cmdline()) for p in before), names
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


def test_sigterm_under_the_o2c_load_stops_the_erp_api_too(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "kill", "--under-load", "o2c")
    lab = drill.lab_dir()
    drill.wait_for("  fault: kill -9", timeout=240)
    before = started_by(drill, lab)
    assert any("uvicorn" in " ".join(p.cmdline()) for p in before), [p.cmdline() for p in before]
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)


@pytest.mark.skipif(not Path("/usr/bin/pg_autoctl").exists(), reason="pg_auto_failover not installed")
def test_sigterm_of_a_pg_auto_failover_drill_stops_its_keepers_and_monitor(start) -> None:  # type: ignore[no-untyped-def]
    drill = start("--fault", "crash", engine="pg_auto_failover")
    lab = drill.lab_dir()
    drill.wait_for("  fault: node crash", timeout=240)
    before = started_by(drill, lab)
    assert any(p.name() == "pg_autoctl" for p in before), [p.name() for p in before]
    drill.proc.send_signal(signal.SIGTERM)
    assert_nothing_left(drill, lab, before, 143)
