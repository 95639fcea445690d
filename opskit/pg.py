"""PostgreSQL server binaries and throw-away clusters on loopback ports, stopped by PID.

When run as root, servers run as the `postgres` OS user (PostgreSQL refuses root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time
from pathlib import Path

from opskit.errors import ClusterError, Unavailable
from opskit.ports import free_port


def pg_bin_dir(configured: Path | None = None) -> Path:
    """The directory of initdb, pg_ctl and the client tools: configured, else the newest
    /usr/lib/postgresql/*/bin, else wherever PATH has pg_ctl or pg_basebackup."""
    if configured:
        return configured
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if candidates:
        return candidates[-1]
    for program in ("pg_ctl", "pg_basebackup"):
        found = shutil.which(program)
        if found:
            return Path(found).parent
    raise Unavailable("PostgreSQL binaries not found: install postgresql or set the tool's pg_bin_dir")


def server_user() -> str | None:
    """The OS user servers run as: `postgres` when we are root, else ourselves (None)."""
    return "postgres" if os.geteuid() == 0 else None


def run_as_server_user(argv: list[str], timeout: float = 120, cwd: str = "/") -> subprocess.CompletedProcess[str]:
    """Run `argv` as the server user (see `server_user`), capturing its output; never raises on its status."""
    user = server_user()
    cmd = ["runuser", "-u", user, "--", *argv] if user else argv
    return subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=timeout, cwd=cwd)


def alive(pid: int) -> bool:
    """Whether a process with `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Cluster:
    """One data directory and the server on it; `stop` and `remove` are safe at any time, more than once."""

    def __init__(
        self, data_dir: Path, port: int | None = None, bin_dir: Path | None = None, socket_dir: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.socket_dir = socket_dir
        self.port = port or free_port()
        self.bin_dir = pg_bin_dir(bin_dir)
        self.user = server_user()
        self.log = data_dir.parent / f"{data_dir.name}.log"

    def client(self, program: str) -> list[str]:
        """The argv start of a PostgreSQL client program talking to this server as `postgres` over loopback."""
        return [str(self.bin_dir / program), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres"]

    def give_to_server_user(self, path: Path) -> None:
        if self.user:
            info = pwd.getpwnam(self.user)
            os.chown(path, info.pw_uid, info.pw_gid)

    def initdb(self, conf: dict[str, str] | None = None) -> Cluster:
        """Create the data directory (trust auth, superuser `postgres`), then append `conf` settings."""
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self.give_to_server_user(self.data_dir.parent)
        done = run_as_server_user([str(self.bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres",
                                   "-A", "trust", "--no-sync"])
        if done.returncode != 0:
            raise ClusterError(f"initdb failed: {done.stderr.strip()[-300:]}")
        if conf:
            self.configure(conf)
        return self

    def configure(self, conf: dict[str, str]) -> None:
        with (self.data_dir / "postgresql.auto.conf").open("a") as fh:
            for name, value in conf.items():
                fh.write(f"{name} = '{value}'\n")

    def start(self, timeout: float = 120) -> None:
        """Start the server on 127.0.0.1:`port` and wait until it accepts connections."""
        self.log.touch()
        self.give_to_server_user(self.log)
        sockets = str(self.socket_dir) if self.socket_dir else ""
        options = f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories='{sockets}'"
        done = run_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-o", options,
                                   "-l", str(self.log), "-w", "-t", str(int(timeout)), "start"], timeout=timeout + 10)
        if done.returncode != 0:
            raise ClusterError(f"cluster on port {self.port} did not start: {self.log_tail()}")

    def log_tail(self, lines: int = 8) -> str:
        try:
            return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: pg_ctl, then SIGQUIT to the postmaster's PID if pg_ctl could not."""
        pid = self.pid()
        if pid is None:
            return
        try:
            done = run_as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w",
                                       "stop"], timeout=60)
            failed = done.returncode != 0
        except subprocess.TimeoutExpired:
            failed = True
        if failed and self.pid() == pid:
            try:
                os.kill(pid, signal.SIGQUIT)
            except ProcessLookupError:
                return
            for _ in range(50):
                if not alive(pid):
                    return
                time.sleep(0.1)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait until the server accepts read-write sessions (recovery finished and promoted)."""
        import psycopg

        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            try:
                with psycopg.connect(self.url(), connect_timeout=2) as conn:
                    row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
                    if row is not None and not row[0]:
                        return
                    last = "still in recovery"
            except psycopg.OperationalError as exc:
                last = str(exc).strip()
            if self.pid() is None and "recovery" not in last:
                break
            time.sleep(0.1)
        raise ClusterError(f"cluster on port {self.port} never became read-write ({last}): {self.log_tail()}")

    def remove(self) -> None:
        """Stop the server at once and delete its data directory and log."""
        self.stop("immediate")
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log.unlink(missing_ok=True)
