"""A pg_auto_failover lab on loopback: a monitor and two keepers (primary + synchronous secondary).

`tuned=False` keeps pg_auto_failover's defaults (about 20 s to notice a dead node, then up to 30 s of
`primary_demote_timeout`); `tuned=True` shortens the monitor's health checks and the demote timeout,
the settings an SRE would change after a drill. Every `pg_autoctl` runs in its own session, so a node
crash is one SIGKILL of its process group, and teardown stops each group by its PID.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from failover import pgsql
from failover.lab import make_base_dir, multi_host_conninfo
from failover.types import LabError
from opskit.pg import pg_bin_dir, server_user
from opskit.ports import free_port

PG_AUTOCTL = "/usr/bin/pg_autoctl"
TUNED_MONITOR = {
    "pgautofailover.health_check_period": "1000",
    "pgautofailover.health_check_timeout": "1000",
    "pgautofailover.health_check_max_retries": "1",
    "pgautofailover.health_check_retry_delay": "500",
    "pgautofailover.node_considered_unhealthy_timeout": "2000",
    "pgautofailover.primary_demote_timeout": "3000",
}


@dataclass
class Keeper:
    name: str
    port: int
    pgdata: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres connect_timeout=2"

    def postmaster_pid(self) -> int | None:
        return pgsql.postmaster_pid(self.pgdata)


@dataclass
class AutoFailoverLab:
    base: Path
    monitor: Keeper
    nodes: list[Keeper]
    tuned: bool = False

    @property
    def monitor_uri(self) -> str:
        return f"postgres://autoctl_node@127.0.0.1:{self.monitor.port}/pg_auto_failover?sslmode=disable"

    def env(self) -> dict[str, str]:
        return dict(os.environ, HOME=str(self.base), XDG_CONFIG_HOME=str(self.base / "config"),
                    XDG_DATA_HOME=str(self.base / "data"), XDG_RUNTIME_DIR=str(self.base / "run"),
                    PG_CONFIG=str(pg_bin_dir() / "pg_config"))

    def node(self, name: str) -> Keeper:
        return next(n for n in self.nodes if n.name == name)

    def client_conninfo(self) -> str:
        return multi_host_conninfo([n.port for n in self.nodes])

    def _spawn(self, keeper: Keeper, args: list[str]) -> None:
        with open(self.base / f"{keeper.name}.log", "ab") as log:
            try:
                keeper.proc = subprocess.Popen(
                    [PG_AUTOCTL, *args], stdout=log, stderr=subprocess.STDOUT, cwd="/tmp", env=self.env(),
                    start_new_session=True, user=server_user())
            except FileNotFoundError as exc:
                raise LabError(f"{PG_AUTOCTL} is not installed (scripts/ensure-failover.sh installs "
                               "pg_auto_failover)") from exc

    def _common(self, keeper: Keeper) -> list[str]:
        return ["--pgdata", str(keeper.pgdata), "--pgport", str(keeper.port), "--hostname", "127.0.0.1",
                "--listen", "127.0.0.1", "--auth", "trust", "--no-ssl", "--pgctl", str(pg_bin_dir() / "pg_ctl"),
                "--run"]

    def start(self, timeout: float = 90) -> None:
        self._spawn(self.monitor, ["create", "monitor", *self._common(self.monitor)])
        self._wait(lambda: self._monitor_ready(), timeout, "monitor")
        if self.tuned:
            self.tune_monitor()
        for keeper in self.nodes:
            self._spawn(keeper, ["create", "postgres", *self._common(keeper), "--name", keeper.name,
                                 "--monitor", self.monitor_uri])
            self._wait(lambda k=keeper: self._reported(k.name) in ("single", "primary", "secondary"), timeout, keeper.name)
        self._wait(lambda: sorted(self._reported(n.name) for n in self.nodes) == ["primary", "secondary"],
                   timeout, "primary + secondary")

    def tune_monitor(self) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.monitor.port} user=postgres dbname=pg_auto_failover"
        with psycopg.connect(dsn, autocommit=True) as conn:
            for name, value in TUNED_MONITOR.items():
                conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
            conn.execute("SELECT pg_reload_conf()")

    def _monitor_ready(self) -> bool:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.monitor.port} user=postgres dbname=pg_auto_failover connect_timeout=2"
        try:
            with psycopg.connect(dsn) as conn:
                return conn.execute("SELECT count(*) FROM pg_extension WHERE extname = 'pgautofailover'"
                                    ).fetchone() == (1,)
        except psycopg.Error:
            return False

    def state(self) -> list[dict[str, Any]]:
        """`pg_autoctl show state --json` from the monitor: each node's reported and assigned state."""
        proc = subprocess.run([PG_AUTOCTL, "show", "state", "--json", "--monitor", self.monitor_uri],
                              capture_output=True, text=True, env=self.env(), cwd="/tmp", timeout=10, check=False,
                              user=server_user())
        try:
            data = json.loads(proc.stdout)
        except ValueError:
            return []
        return list(data) if isinstance(data, list) else []

    def _reported(self, name: str) -> str:
        return next((str(n.get("current_group_state")) for n in self.state() if n.get("nodename") == name), "")

    def _wait(self, ready: Any, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if ready():
                return
            time.sleep(0.3)
        raise LabError(f"pg_auto_failover lab: {what} not ready after {timeout:.0f} s")

    def crash(self, name: str) -> int:
        """kill -9 of the keeper's whole process group (pg_autoctl and its PostgreSQL); returns the PGID."""
        keeper = self.node(name)
        if keeper.proc is None:
            raise LabError(f"{name} is not running")
        os.killpg(keeper.proc.pid, signal.SIGKILL)
        keeper.proc.wait(10)
        return keeper.proc.pid

    def restart(self, name: str) -> None:
        keeper = self.node(name)
        self._spawn(keeper, ["run", "--pgdata", str(keeper.pgdata)])

    def destroy(self) -> None:
        for keeper in [*self.nodes, self.monitor]:
            _stop_group(keeper.proc)
            pid = keeper.postmaster_pid()
            if pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        shutil.rmtree(self.base, ignore_errors=True)


def create_autofailover_lab(tuned: bool = False, base: Path | None = None) -> AutoFailoverLab:
    base = base or make_base_dir()
    lab = AutoFailoverLab(base, Keeper("monitor", free_port(), base / "monitor"),
                          [Keeper(f"node{i}", free_port(), base / f"node{i}") for i in (1, 2)], tuned)
    try:
        lab.start()
    except BaseException:
        lab.destroy()
        raise
    return lab


def _stop_group(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)
    except ProcessLookupError:
        pass
