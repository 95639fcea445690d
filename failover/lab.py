"""A PostgreSQL lab on loopback: a primary and a synchronous streaming standby, stopped by PID.

Every server listens on 127.0.0.1 only, on a free port, in a directory owned by the `postgres`
OS user when erpops runs as root. Postmasters are our own child processes (no `pg_ctl` daemon),
so each one is stopped and reaped by its PID, also when a drill fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psutil
import psycopg

from failover.types import LabError
from opskit.pg import pg_bin_dir, run_as_server_user, server_user
from opskit.ports import free_port

# A client of a cut-off (isolated, or hung mid-commit) server hears nothing, not even a reset: without
# these its session waits for TCP's own retransmission timeout, minutes. Keepalives every second (dead
# after 2 unanswered) end an idle wait in ~3 s, and tcp_user_timeout ends a send nobody acknowledges.
# On loopback a live server answers both within microseconds, so nothing healthy is ever cut short.
CLIENT_TIMEOUTS = "keepalives=1 keepalives_idle=1 keepalives_interval=1 keepalives_count=2 tcp_user_timeout=3000"


def multi_host_conninfo(ports: Sequence[int], dbname: str = "postgres", connect_timeout: int = 2) -> str:
    """A libpq string over every loopback port that connects to whichever one accepts writes.

    The keepalives and TCP user timeout make a session on a cut-off primary fail in about 3 s, not minutes.
    """
    return (f"host={','.join('127.0.0.1' for _ in ports)} port={','.join(map(str, ports))} user=postgres "
            f"dbname={dbname} target_session_attrs=read-write connect_timeout={connect_timeout} {CLIENT_TIMEOUTS}")


SERVER_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "wal_level": "replica",
    "max_wal_senders": "10",
    "max_replication_slots": "10",
    "wal_keep_size": "'256MB'",
    "hot_standby": "on",
    # pg_rewind needs hint bits in WAL (or data checksums) to rewind a crashed primary.
    "wal_log_hints": "on",
    "synchronous_standby_names": "'*'",
    "synchronous_commit": "on",
    # Promotion and reconnection stall on the 5 s default between WAL retrieval retries.
    "wal_retrieve_retry_interval": "'200ms'",
    "wal_receiver_status_interval": "'1s'",
    "wal_sender_timeout": "'5s'",
    "wal_receiver_timeout": "'5s'",
    "shared_buffers": "'32MB'",
    "max_connections": "60",
    "fsync": "off",  # process-level faults only: the page cache survives, and the lab stays fast
    "full_page_writes": "on",
    "log_line_prefix": "'%m [%p] '",
    "logging_collector": "off",
}


def run_pg(tool: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool as the server's OS user; raises LabError with its output on failure."""
    proc = run_as_server_user([str(pg_bin_dir() / tool), *args], timeout=timeout, cwd="/tmp")
    if proc.returncode != 0:
        raise LabError(f"{tool} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc


@dataclass
class PgNode:
    """One PostgreSQL server of the lab: its data directory, port and postmaster process."""

    name: str
    port: int
    datadir: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    known_pids: set[int] = field(default_factory=set, repr=False)

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"

    @property
    def logfile(self) -> Path:
        return self.datadir.parent / f"{self.name}.log"

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self, timeout: float = 30) -> None:
        """Start the postmaster as our child and wait until it accepts connections."""
        if self.running():
            return
        log = open(self.logfile, "ab")  # noqa: SIM115 - handed to the child, closed below
        try:
            self.proc = subprocess.Popen(
                [str(pg_bin_dir() / "postgres"), "-D", str(self.datadir), *self.server_args()],
                stdout=log, stderr=subprocess.STDOUT, user=server_user(), cwd="/tmp",
                start_new_session=True,
            )
        finally:
            log.close()
        self.wait_ready(timeout)

    def server_args(self) -> list[str]:
        # Node-specific settings on the command line: pg_basebackup and pg_rewind copy config files.
        return ["-p", str(self.port), "-c", f"cluster_name={self.name}",
                "-c", f"unix_socket_directories={self.datadir.parent}"]

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise LabError(f"{self.name} exited at start-up: {self.log_tail()}")
            try:
                psycopg.connect(self.dsn, autocommit=True).close()
                return
            except psycopg.OperationalError:
                time.sleep(0.05)
        raise LabError(f"{self.name} did not accept connections within {timeout:.0f} s")

    def pids(self) -> list[int]:
        """The postmaster and every child it has, postmaster first."""
        if not self.running() or self.pid is None:
            return []
        try:
            children = psutil.Process(self.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        found = [self.pid, *(c.pid for c in children)]
        self.known_pids.update(found)
        return found

    def signal(self, sig: signal.Signals, children: bool = False) -> None:
        for pid in self.pids() if children else ([self.pid] if self.running() and self.pid else []):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def kill(self) -> None:
        """kill -9 of the postmaster only: its children notice and exit on their own."""
        self.pids()
        self.signal(signal.SIGKILL)

    def hang(self) -> None:
        """SIGSTOP every process of the server: sockets stay open, nothing answers."""
        self.signal(signal.SIGSTOP, children=True)

    def resume(self) -> None:
        self.signal(signal.SIGCONT, children=True)

    def fence(self, timeout: float = 10) -> None:
        """SIGKILL the postmaster and all its children (works on stopped ones too) and reap them."""
        pids = self.pids()
        children = [p for p in self.known_pids | set(pids) if p != self.pid and is_postgres(p)]
        for pid in [*pids[:1], *children]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout)
        _wait_gone(children, timeout)
        self.known_pids.clear()

    def stop(self, mode: str = "fast", timeout: float = 30) -> None:
        """Stop the server by its PID (fast = SIGINT, immediate = SIGQUIT), SIGKILL if it will not."""
        if not self.running() or self.proc is None:
            self.fence(timeout)
            return
        self.resume()
        self.signal(signal.SIGINT if mode == "fast" else signal.SIGQUIT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.fence()
        _wait_gone([p for p in self.known_pids if is_postgres(p)], timeout)
        self.known_pids.clear()

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    def write_conf(self, settings: dict[str, str], file: str = "postgresql.auto.conf") -> None:
        path = self.datadir / file
        text = path.read_text() if path.exists() else ""
        text += "".join(f"{k} = {v}\n" for k, v in settings.items())
        _write_as_postgres(path, text)

    def make_standby(self, primary: PgNode) -> None:
        """Write `standby.signal` and a `primary_conninfo` that points at `primary`."""
        self.write_conf({"primary_conninfo": f"'{primary.replication_conninfo(self.name)}'"})
        _write_as_postgres(self.datadir / "standby.signal", "")

    def replication_conninfo(self, application_name: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres application_name={application_name}"

    def to_dict(self) -> dict[str, object]:
        return {"name": self.name, "port": self.port, "datadir": str(self.datadir), "pid": self.pid}


def is_postgres(pid: int) -> bool:
    """Still a live PostgreSQL process (guards against a recycled PID)."""
    try:
        proc = psutil.Process(pid)
        return proc.name() == "postgres" and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _wait_gone(pids: Sequence[int], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while psutil.pid_exists(pid) and time.monotonic() < deadline:
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    break
            except psutil.NoSuchProcess:
                break
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                break
            time.sleep(0.02)


def _write_as_postgres(path: Path, text: str) -> None:
    path.write_text(text)
    _give_to_server_user(path)


def _give_to_server_user(path: Path) -> None:
    user = server_user()
    if user:
        shutil.chown(path, user, user)


@dataclass
class Lab:
    """A primary and its synchronous standby under one temporary directory."""

    base: Path
    nodes: list[PgNode]

    def node(self, name: str) -> PgNode:
        return next(n for n in self.nodes if n.name == name)

    def client_conninfo(self, dbname: str = "postgres", connect_timeout: int = 2) -> str:
        """A libpq multi-host string that finds whichever node accepts writes."""
        return multi_host_conninfo([n.port for n in self.nodes], dbname, connect_timeout)

    def client_url(self, dbname: str = "postgres") -> str:
        """The same multi-host target as a SQLAlchemy URL for `erpcore.db.make_engine`."""
        hosts = "&".join(f"host=127.0.0.1:{n.port}" for n in self.nodes)
        timeouts = "&".join(CLIENT_TIMEOUTS.split())
        return f"postgresql+psycopg://postgres@/{dbname}?{hosts}&target_session_attrs=read-write&{timeouts}"

    def stop(self) -> None:
        """Stop every server by its PID; the data stays for inspection until `destroy`."""
        for node in self.nodes:
            try:
                node.stop("immediate", timeout=10)
            except Exception:
                node.fence()

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def detach(self) -> None:
        """Leave the servers running after this process exits (`stop_saved_lab` stops them by PID)."""
        for node in self.nodes:
            if node.proc is not None:
                # Tell Popen nobody will reap this child here; init does once the CLI has exited.
                node.proc.returncode = 0
                node.proc = None

    def save(self) -> Path:
        path = self.base / "lab.json"
        path.write_text(json.dumps({"base": str(self.base), "nodes": [n.to_dict() for n in self.nodes]}))
        return path


def make_base_dir(parent: Path | None = None) -> Path:
    """A fresh directory the `postgres` user can own (pytest's tmp dirs are private to root)."""
    base = Path(tempfile.mkdtemp(prefix="erpops-failover-", dir=parent))
    base.chmod(0o755)
    _give_to_server_user(base)
    return base


def create_pair(base: Path | None = None, names: tuple[str, str] = ("node1", "node2")) -> Lab:
    """initdb a primary, pg_basebackup -R a standby from it, and wait until it is the sync standby."""
    base = base or make_base_dir()
    primary = PgNode(names[0], free_port(), base / names[0])
    standby = PgNode(names[1], free_port(), base / names[1])
    lab = Lab(base, [primary, standby])
    try:
        run_pg("initdb", "-D", str(primary.datadir), "-U", "postgres", "-A", "trust", "--no-sync",
               "--no-instructions")
        primary.write_conf(SERVER_SETTINGS, "postgresql.conf")
        _write_as_postgres(primary.datadir / "pg_hba.conf",
                           "host all all 127.0.0.1/32 trust\nhost replication all 127.0.0.1/32 trust\n"
                           "local all all trust\nlocal replication all trust\n")
        primary.start()
        add_standby(lab, standby, primary)
    except BaseException:
        lab.destroy()
        raise
    return lab


def add_standby(lab: Lab, standby: PgNode, primary: PgNode, timeout: float = 30) -> None:
    """Clone `primary` into `standby` with pg_basebackup, start it and wait for sync streaming."""
    run_pg("pg_basebackup", "-D", str(standby.datadir), "-h", "127.0.0.1", "-p", str(primary.port),
           "-U", "postgres", "-X", "stream", "-c", "fast", "--no-sync", "-R")
    standby.make_standby(primary)
    standby.start()
    from failover.pgsql import wait_sync_standby

    wait_sync_standby(primary, standby.name, timeout)
