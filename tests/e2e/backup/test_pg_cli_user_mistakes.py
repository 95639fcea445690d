"""What a new user met with `erpops backup` on PostgreSQL (issue 12), run as they ran it: the CLI in a subprocess.

Runbook shape: a primary with the ERP schema streams WAL to two local sites; one base backup; a few commits
after it, shipped. Then the user's mistakes: a restore to a time the shipped WAL cannot reach, the same for
restore-table, a corrupt copy on the first site, and a drill stopped with SIGTERM or Ctrl-C at several points.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from backup.create import create_backup
from backup.scratch import processes_of
from backup.settings import load_backup_settings
from backup.sites import make_sites
from backup.walstream import WalStreamer
from erpcore.db import make_engine
from erpcore.migrate import upgrade
from opskit.pg import Cluster
from tests.integration.backup.conftest import ship_wal, streaming_cluster, write_config

pytestmark = [pytest.mark.cluster, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[3]


@dataclass
class Env:
    shared: Path
    config: Path
    cluster: Cluster
    backup_id: str
    last_commit: dt.datetime


def erpops_argv(*args: str) -> list[str]:
    """The installed `erpops` console script, as the README runs it (on this tree through PYTHONPATH).

    Not `python -m erpops`: CPython under -m exits by SIGINT (-2), not with the code the program chose (130),
    when a KeyboardInterrupt once escaped a string exec()/eval() (as in dataclass or SQLAlchemy code
    generation) even though the program caught it later.
    """
    return [str(Path(sys.executable).parent / "erpops"), *args]


def run_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), "COLUMNS": "200"}


def erpops(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        erpops_argv(*args),
        capture_output=True,
        text=True,
        timeout=timeout,
        env=run_env(),
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def env() -> Iterator[Env]:
    shared = Path(tempfile.mkdtemp(prefix="erpops-backup-e2e-"))
    os.chmod(shared, 0o777)
    cluster = streaming_cluster(shared, "primary")
    streamer: WalStreamer | None = None
    try:
        engine = make_engine(cluster.url())
        upgrade(engine)
        engine.dispose()
        sites = "".join(
            f'[[backup.sites]]\nname = "local{i}"\npath = "{shared / f"site{i}"}"\n' for i in (0, 1)
        )
        config = write_config(
            shared, f'[backup]\ndatabase_url = "{cluster.url()}"\ncompression = "zstd"\n{sites}'
        )
        settings = load_backup_settings(config)
        streamer = WalStreamer(cluster.url(), make_sites(settings), shared / "spool")
        streamer.start()
        backup = create_backup(settings, make_sites(settings))
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE probe (id serial PRIMARY KEY, note text NOT NULL)")
            for note in ("one", "two", "three"):
                conn.execute("INSERT INTO probe (note) VALUES (%s)", (note,))
            row = conn.execute("SELECT clock_timestamp()").fetchone()
        assert row is not None
        ship_wal(cluster.url(), streamer)
        yield Env(shared, config, cluster, backup.manifest.backup_id, row[0])
    finally:
        if streamer is not None:
            streamer.stop(drop_slot=True)
        cluster.remove()
        shutil.rmtree(shared, ignore_errors=True)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr, done.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def test_restore_to_a_time_past_the_shipped_wal_fails_and_names_the_newest_reachable_time(env: Env) -> None:
    target = env.shared / "restored-future"
    future = (env.last_commit + dt.timedelta(hours=1)).isoformat()
    done = erpops("backup", "restore", "--config", str(env.config), "--to", str(target), "--time", future)
    assert done.returncode == 1
    line = one_error_line(done)
    assert f"cannot recover to {future}" in line and "the newest reachable time is" in line
    assert not target.exists()  # nothing half-written

    newest = re.search(r"the newest reachable time is (\S+), just before the last commit", line)
    assert newest is not None, line
    reachable = dt.datetime.fromisoformat(newest.group(1))
    assert env.last_commit - dt.timedelta(seconds=5) < reachable <= env.last_commit

    owner = ["--owner", "postgres"] if os.geteuid() == 0 else []
    done = erpops(
        "backup",
        "restore",
        "--config",
        str(env.config),
        "--to",
        str(target),
        "--time",
        reachable.isoformat(),
        *owner,
        "--json",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert "WAL on the sites reaches" in json.loads(done.stdout)["reason"]
    restored = Cluster(target)
    try:
        restored.start()
        restored.wait_ready()  # the reported time really is reachable: recovery ends and promotes
        with psycopg.connect(restored.url()) as conn:
            notes = [r[0] for r in conn.execute("SELECT note FROM probe ORDER BY id")]
        assert notes[:2] == ["one", "two"]  # the shipped commits before that time
    finally:
        restored.remove()


def test_restore_to_an_xid_never_committed_fails_the_same_way(env: Env) -> None:
    target = env.shared / "restored-xid"
    done = erpops("backup", "restore", "--config", str(env.config), "--to", str(target), "--xid", "99999999")
    assert done.returncode == 1
    assert "cannot recover to transaction 99999999" in one_error_line(done)
    assert not target.exists()


def test_restore_table_to_an_unreachable_time_says_so_in_one_line(env: Env) -> None:
    future = (env.last_commit + dt.timedelta(hours=1)).isoformat()
    done = erpops(
        "backup",
        "restore-table",
        "--config",
        str(env.config),
        "-t",
        "probe",
        "--time",
        future,
        "--into-schema",
        "probe_future",
    )
    assert done.returncode == 1
    line = one_error_line(done)
    assert "cannot recover to" in line and "newest reachable time" in line
    assert "LOG:" not in done.stderr and "FATAL" not in done.stderr
    with psycopg.connect(env.cluster.url()) as conn:
        assert conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = 'probe_future'").fetchone() is None


@pytest.fixture
def corrupt_first_copy(env: Env) -> Iterator[Path]:
    """Flip bytes in the middle of the base backup on local0, the site a restore reads first."""
    path = env.shared / "site0" / "backups" / env.backup_id / "base.tar.zst"
    original = path.read_bytes()
    middle = len(original) // 2
    path.write_bytes(
        original[:middle]
        + bytes(b ^ 0xFF for b in original[middle : middle + 4096])
        + original[middle + 4096 :]
    )
    try:
        yield path
    finally:
        path.write_bytes(original)


def test_a_corrupt_copy_is_skipped_without_zstd_text_on_stderr(env: Env, corrupt_first_copy: Path) -> None:
    target = env.shared / "restored-skip"
    done = erpops(
        "backup",
        "restore",
        "--config",
        str(env.config),
        "--to",
        str(target),
        "--immediate",
        "--json",
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # --json --quiet: only JSON, on stdout
    result = json.loads(done.stdout)
    assert result["site"] == "local1" and "local0" in result["skipped"]
    shutil.rmtree(target)

    done = erpops(
        "backup", "restore", "--config", str(env.config), "--to", str(target), "--immediate", "--json"
    )
    assert done.returncode == 0
    json.loads(done.stdout)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "warning: skipped bad copies, restored from healthy ones: local0: "
    ), done.stderr
    assert "Data corruption detected" in lines[0]  # zstd's words, inside our one line
    shutil.rmtree(target)


class Drill:
    """`erpops backup drill` in a subprocess, its stderr collected line by line as it comes."""

    def __init__(self, env: Env, scratch: Path) -> None:
        scratch.mkdir()
        scratch.chmod(0o755)
        self.scratch = scratch
        self.proc = subprocess.Popen(
            erpops_argv(
                "backup", "drill", "--config", str(env.config), "--scratch", str(scratch), "--seed", "7"
            ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=run_env(),
            cwd=ROOT,
        )
        self.lines: list[str] = []
        assert self.proc.stderr is not None
        err = self.proc.stderr
        self.reader = threading.Thread(target=lambda: self.lines.extend(iter(err.readline, "")), daemon=True)
        self.reader.start()

    def wait_for(self, marker: str, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(marker in line for line in self.lines):
                return
            assert self.proc.poll() is None, (
                f"drill exited {self.proc.returncode} before {marker!r}: {self.lines}"
            )
            time.sleep(0.02)
        raise AssertionError(f"no {marker!r} within {timeout}s: {self.lines}")

    def wait_for_server(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if list(self.scratch.glob("*/*/postmaster.pid")):
                return
            time.sleep(0.05)
        raise AssertionError(f"no scratch server started within {timeout}s: {self.lines}")

    def stop(self, sig: int) -> int:
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(180)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
        self.close()
        return code

    def close(self) -> None:
        self.reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()

    def assert_nothing_left(self) -> None:
        assert processes_of(self.scratch) == [], "a process of the drill's scratch dir still runs"
        assert list(self.scratch.iterdir()) == [], list(self.scratch.rglob("*"))[:10]


@pytest.mark.parametrize(
    ("marker", "server_up", "sig", "code"),
    [
        ("drill: choose backup", False, signal.SIGTERM, 143),  # early
        ("drill: restore backup", False, signal.SIGTERM, 143),  # pg_basebackup's tar streaming through zstd
        ("drill: start read-write", True, signal.SIGTERM, 143),  # the scratch server is up
        ("drill: erpops check", False, signal.SIGINT, 130),  # Ctrl-C while the checks run
        ("drill: restore to a random commit", False, signal.SIGTERM, 143),  # late: the second cluster
    ],
)
def test_a_drill_stopped_by_a_signal_leaves_no_cluster_and_no_directory(
    env: Env, marker: str, server_up: bool, sig: int, code: int
) -> None:
    drill = Drill(env, env.shared / ("scratch-" + re.sub(r"\W+", "-", marker) + f"-{sig}"))
    drill.wait_for(marker)
    if server_up:
        drill.wait_for_server()
    assert drill.stop(sig) == code, drill.lines
    drill.assert_nothing_left()
    if sig == signal.SIGTERM:
        assert any(line.startswith("error: terminated") for line in drill.lines), drill.lines


def test_a_drill_run_to_the_end_passes_and_leaves_nothing(env: Env) -> None:
    drill = Drill(env, env.shared / "scratch-full")
    assert drill.proc.stdout is not None
    out = drill.proc.stdout.read()
    assert drill.proc.wait(300) == 0, drill.lines
    drill.close()
    assert "drill passed" in " ".join(drill.lines)
    assert "pg_amcheck point in time" in out
    drill.assert_nothing_left()


def test_wal_stream_stopped_by_sigterm_pushes_what_is_finished_and_exits_0(env: Env) -> None:
    spool = env.shared / "stream-spool"
    proc = subprocess.Popen(
        erpops_argv(
            "backup",
            "wal-stream",
            "--config",
            str(env.config),
            "--spool",
            str(spool),
            "--slot",
            "e2e_stream",
            "--json",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=run_env(),
        cwd=ROOT,
    )
    try:
        deadline = time.monotonic() + 60
        while not receivers(spool) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.1)
        assert receivers(spool), "pg_receivewal never started"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    stats = json.loads(out)
    assert stats["stopped_by"] == "SIGTERM" and stats["errors"] == []
    assert stats["reason"].startswith("pushed ") and stats["reason"].endswith("stopped: SIGTERM")
    assert receivers(spool) == [] and processes_of(spool) == []  # pg_receivewal stopped with it


def receivers(spool: Path) -> list[int]:
    """The pg_receivewal processes writing into `spool` (not the erpops process, which also names it)."""
    found = []
    for pid in processes_of(spool):
        try:
            if Path(f"/proc/{pid}/comm").read_text(errors="replace").strip() == "pg_receivewal":
                found.append(pid)
        except OSError:  # it exited meanwhile
            continue
    return found


def test_restore_to_a_restore_point_never_made_fails_the_same_way(env: Env) -> None:
    target = env.shared / "restored-name"
    done = erpops(
        "backup", "restore", "--config", str(env.config), "--to", str(target), "--name", "no-such-point"
    )
    assert done.returncode == 1
    line = one_error_line(done)
    assert "cannot recover to restore point 'no-such-point'" in line
    assert f"erpops-{env.backup_id}" in line  # the backup's own point is named as one that is there
    assert not target.exists()
