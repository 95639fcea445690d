"""Throw-away clusters without starting PostgreSQL: binaries found, commands built, failures reported with the
server's words, and `stop` safe when nothing runs (subprocess and os calls replaced)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from opskit import pg
from opskit.errors import ClusterError, Unavailable
from opskit.pg import Cluster


def done(returncode: int = 0, stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess([], returncode, "", stderr)


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    monkeypatch.setattr(pg, "server_user", lambda: None)
    return Cluster(tmp_path / "data", port=54999, bin_dir=tmp_path / "bin")


def test_the_newest_installed_major_version_wins_numerically(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    for major in ("9", "15", "10"):
        (tmp_path / major / "bin").mkdir(parents=True)
    monkeypatch.setattr("opskit.pg.Path", lambda p: tmp_path if p == "/usr/lib/postgresql" else Path(p))
    assert pg.pg_bin_dir() == tmp_path / "15" / "bin"  # not "9", which sorts last as text


def test_without_installed_versions_the_path_decides_and_then_it_is_unavailable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("opskit.pg.Path", lambda p: tmp_path if p == "/usr/lib/postgresql" else Path(p))
    monkeypatch.setattr(shutil, "which", lambda program: "/opt/pg/bin/pg_basebackup"
                        if program == "pg_basebackup" else None)
    assert pg.pg_bin_dir() == Path("/opt/pg/bin")
    monkeypatch.setattr(shutil, "which", lambda program: None)
    with pytest.raises(Unavailable, match="PostgreSQL binaries not found"):
        pg.pg_bin_dir()


def test_root_runs_servers_as_postgres_through_runuser(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[list[str]] = []

    def run(cmd: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        seen.append(cmd)
        return done()

    monkeypatch.setattr(subprocess, "run", run)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    assert pg.server_user() == "postgres"
    pg.run_as_server_user(["initdb", "-D", "x"])
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert pg.server_user() is None
    pg.run_as_server_user(["initdb", "-D", "x"])
    assert seen == [["runuser", "-u", "postgres", "--", "initdb", "-D", "x"], ["initdb", "-D", "x"]]


def test_alive_tells_a_running_process_from_a_gone_one_and_counts_a_foreign_one(
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert pg.alive(os.getpid())

    def kill(pid: int, sig: int) -> None:
        raise ProcessLookupError if pid == 1 else PermissionError

    monkeypatch.setattr(os, "kill", kill)
    assert not pg.alive(1)
    assert pg.alive(2)  # exists, owned by someone else


def test_a_cluster_talks_as_postgres_over_loopback_on_its_port(cluster: Cluster, tmp_path: Path) -> None:
    assert cluster.client("psql") == [str(tmp_path / "bin" / "psql"), "-h", "127.0.0.1", "-p", "54999",
                                      "-U", "postgres"]
    assert cluster.url() == "postgresql://postgres@127.0.0.1:54999/postgres"
    assert cluster.url("erp").endswith(":54999/erp")
    assert cluster.log == tmp_path / "data.log"


def test_configure_appends_quoted_settings(cluster: Cluster) -> None:
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "postgresql.auto.conf").write_text("# managed\n")
    cluster.configure({"wal_level": "replica", "archive_command": "cp %p /a/%f"})
    assert (cluster.data_dir / "postgresql.auto.conf").read_text() == \
        "# managed\nwal_level = 'replica'\narchive_command = 'cp %p /a/%f'\n"


def test_a_failed_initdb_says_why_in_its_last_words(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "run_as_server_user", lambda argv, **kw: done(1, "x" * 400 + "directory not empty\n"))
    with pytest.raises(ClusterError) as caught:
        cluster.initdb({"fsync": "off"})
    message = str(caught.value)
    assert message.startswith("initdb failed: ") and message.endswith("directory not empty")
    assert len(message) == len("initdb failed: ") + 300
    assert not (cluster.data_dir / "postgresql.auto.conf").exists()


def test_initdb_then_configures_and_start_passes_loopback_options(cluster: Cluster,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []

    def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        calls.append(argv)
        if argv[0].endswith("initdb"):
            cluster.data_dir.mkdir()
        return done()

    monkeypatch.setattr(pg, "run_as_server_user", run)
    assert cluster.initdb({"max_connections": "20"}) is cluster
    assert "max_connections = '20'" in (cluster.data_dir / "postgresql.auto.conf").read_text()
    assert calls[0][1:] == ["-D", str(cluster.data_dir), "-U", "postgres", "-A", "trust", "--no-sync"]
    cluster.start(timeout=7.9)
    options = calls[1][calls[1].index("-o") + 1]
    assert options == "-c listen_addresses=127.0.0.1 -c port=54999 -c unix_socket_directories=''"
    assert calls[1][-3:] == ["-t", "7", "start"]


def test_a_start_that_fails_reports_the_last_lines_of_the_log(cluster: Cluster,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        cluster.log.write_text("\n".join(f"line {i}" for i in range(12)) + "\n")
        return done(1)

    cluster.data_dir.parent.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(pg, "run_as_server_user", run)
    with pytest.raises(ClusterError, match=r"port 54999 did not start: line 4 \| line 5 .* \| line 11$"):
        cluster.start()
    assert cluster.log_tail(2) == "line 10 | line 11"
    cluster.log.unlink()
    assert cluster.log_tail() == "(no log)"


def test_the_pid_is_the_first_line_of_postmaster_pid_or_none(cluster: Cluster) -> None:
    assert cluster.pid() is None
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "postmaster.pid").write_text("4242\n/var/lib/data\n")
    assert cluster.pid() == 4242
    (cluster.data_dir / "postmaster.pid").write_text("garbage\n")
    assert cluster.pid() is None


def test_stop_without_a_server_does_nothing(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "run_as_server_user", lambda argv, **kw: pytest.fail("nothing to stop"))
    cluster.stop()


def test_stop_falls_back_to_sigquit_when_pg_ctl_times_out(cluster: Cluster,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "postmaster.pid").write_text("4242\n")
    killed: list[tuple[int, int]] = []

    def timeout(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        raise subprocess.TimeoutExpired(argv, 60)

    monkeypatch.setattr(pg, "run_as_server_user", timeout)
    monkeypatch.setattr(os, "kill", lambda pid, sig: killed.append((pid, sig)))
    monkeypatch.setattr(pg, "alive", lambda pid: False)
    cluster.stop("immediate")
    assert killed == [(4242, signal.SIGQUIT)]


def test_stop_leaves_a_server_alone_once_pg_ctl_stopped_it(cluster: Cluster,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "postmaster.pid").write_text("4242\n")
    argv_seen: list[list[str]] = []

    def run(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
        argv_seen.append(argv)
        return done()

    monkeypatch.setattr(pg, "run_as_server_user", run)
    monkeypatch.setattr(os, "kill", lambda pid, sig: pytest.fail("pg_ctl succeeded"))
    cluster.stop("smart")
    assert argv_seen[0][-4:] == ["-m", "smart", "-w", "stop"]


def test_remove_deletes_the_data_directory_and_log_even_twice(cluster: Cluster) -> None:
    cluster.data_dir.mkdir(parents=True)
    (cluster.data_dir / "PG_VERSION").write_text("15\n")
    cluster.log.write_text("log\n")
    cluster.remove()
    cluster.remove()
    assert not cluster.data_dir.exists() and not cluster.log.exists()
