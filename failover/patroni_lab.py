"""A Patroni lab on loopback: one etcd and three Patroni members, with the configuration erpops generates.

Timers (why each value; figures from `python -m bench.failover_rto 3` on this shared 2-core machine):
- `ttl: 5`, `loop_wait: 1`, `retry_timeout: 2`: a dead leader's lock expires within 5 s and members look
  every second; Patroni requires loop_wait + 2 * retry_timeout <= ttl so that a slow DCS never demotes
  a healthy leader by itself. Node crash business RTO p50 5.16 s, p95 5.33 s here (earlier run 5.08 /
  5.72 s), almost all of it the lock expiring: in the drill's timeline the lease expiry is seen at
  4.85-5.0 s, the new leader is out of recovery 0.02-0.25 s later and the first client is back within
  0.01 s (etcd3 watch wakes the replicas at once; clients retry every 10 ms). What bounds it: the lease
  expires ttl minus the time since the leader's last keepalive (one per loop, so 4-5 s), plus etcd 3.4's
  fixed 500 ms lease-revocation tick; p50 ~4.9-5.2 s on this shared machine, the 5 s target sits inside
  the noise. The levers all cost something: loop_wait 2 (lease refreshed every 2 s, expiry 3-5 s) would
  delay Patroni's own look at a crashed PostgreSQL by up to 2 s, so the PG-only kill (p95 2.88 s with
  loop_wait 1) would miss its 3 s target (reasoned from the loop, not measured);
  ttl 4 with retry_timeout 1.5 was tried and rejected: under load the sync standby lost its own DCS
  session during the failover ("DCS is not accessible") and no leader was elected within 60 s. etcd
  leases are whole seconds, so 5 is the smallest safe ttl. A DCS farther than loopback wants
  retry_timeout 3 and ttl 8 (ttl 8 gave 7.9 s; Patroni's defaults imply about 30 s).
- `primary_start_timeout: 0`: a PostgreSQL-only crash fails over to the sync standby at once (the
  leader key is released as soon as Patroni sees the crash) instead of crash-recovering in place:
  PG-only kill RTO p50 2.68 s, p95 2.88 s here (earlier 1.99 / 2.88 s), against ~3.4 s (p95 3.6 s) with
  the in-place restart.
- Isolation (`--fault isolate`): each member reaches etcd through a client URL of its own (etcd listens
  on one per member; `use_proxies` stops Patroni from discovering the others), so one nftables table cuts
  its PostgreSQL, REST API and DCS ports together. Patroni talks to its own PostgreSQL over the Unix
  socket (`use_unix_socket`), as on a real host where a partition leaves local sockets alone: over TCP
  its HA loop hung on a query to its cut-off server, never demoted it, and came back believing it led.
  The isolated leader demotes itself ~1.3 s after the cut ("demoting self because DCS is not
  accessible"), long before its lease expires; the new leader waits for the lease (~5 s) and then for
  Patroni's hard-coded 2 s REST timeout on the unreachable former leader (ha.py `fetch_node_status`),
  so isolation business RTO is p50 7.48 s, p95 7.49 s (target p95 <= 15 s) with 0 acks from the
  isolated node; it is back in sync ~10 s after the cut is lifted (its etcd client reuses pooled
  connections stalled by the cut until they time out, then pg_rewind).
- `synchronous_mode: true` (not strict): failover only to the synchronous standby, so no acknowledged
  commit is lost; a leader alone keeps taking orders instead of blocking them.
- `maximum_lag_on_failover: 1 MB`, `use_pg_rewind: true`, `remove_data_directory_on_rewind_failure`:
  an old primary comes back by rewind, or by a fresh clone when rewind cannot help.
- `wal_retrieve_retry_interval: 200ms`: the 5 s default stalls promotion and reconnection.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from failover import pgsql
from failover.lab import make_base_dir, multi_host_conninfo
from failover.types import EngineName, FailoverUsage, LabError
from opskit.pg import alive, pg_bin_dir, server_user
from opskit.ports import free_port
from opskit.proc import answers

ETCD = "/usr/bin/etcd"
PATRONI = "/usr/bin/patroni"
TIMERS = {"ttl": 5, "loop_wait": 1, "retry_timeout": 2}
# A crashed primary fails over to its synchronous standby at once instead of crash-recovering in place
# (Patroni's default waits up to 300 s for that). Safe because synchronous_mode only promotes the sync
# standby, which holds every acknowledged commit; the old primary comes back by pg_rewind.
PRIMARY_START_TIMEOUT = 0
PG_PARAMETERS = {
    "wal_level": "replica", "hot_standby": "on", "wal_log_hints": "on", "max_wal_senders": 10,
    "max_replication_slots": 10, "wal_keep_size": "256MB", "wal_retrieve_retry_interval": "200ms",
    "wal_receiver_status_interval": "1s", "wal_sender_timeout": "5s", "wal_receiver_timeout": "5s",
    "shared_buffers": "32MB", "max_connections": 60, "fsync": "off",
}


@dataclass
class PatroniMember:
    name: str
    pg_port: int
    rest_port: int
    datadir: Path
    config: Path
    # The member's own etcd client port (etcd listens on one per member): cutting it off cuts only this
    # member's path to the DCS. 0 means the lab's shared client port.
    etcd_port: int = 0
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.pg_port} user=postgres dbname=postgres connect_timeout=2"

    @property
    def local_dsn(self) -> str:
        """Over the Unix socket in the lab's directory: reachable while the member is cut off the network."""
        return f"host={self.datadir.parent} port={self.pg_port} user=postgres dbname=postgres connect_timeout=2"

    @property
    def port(self) -> int:
        return self.pg_port

    @property
    def rest(self) -> str:
        return f"http://127.0.0.1:{self.rest_port}"

    def postmaster_pid(self) -> int | None:
        return pgsql.postmaster_pid(self.datadir)

    def network_ports(self) -> tuple[int, ...]:
        """Every TCP port that is this member's alone: PostgreSQL, REST API, its etcd client port."""
        return tuple(p for p in (self.pg_port, self.rest_port, self.etcd_port) if p)


def member_config(scope: str, member: PatroniMember, etcd_port: int, base: Path) -> dict[str, Any]:
    """The Patroni YAML of one member, tuned as the module docstring explains."""
    return {
        "scope": scope,
        "name": member.name,
        "restapi": {"listen": f"127.0.0.1:{member.rest_port}", "connect_address": f"127.0.0.1:{member.rest_port}"},
        # use_proxies: talk to this one URL only, no discovery of etcd's other client URLs (which would let
        # an isolated member reach the DCS through another member's port).
        "etcd3": {"hosts": [f"127.0.0.1:{member.etcd_port or etcd_port}"], "use_proxies": True},
        "bootstrap": {
            "dcs": {
                **TIMERS,
                "primary_start_timeout": PRIMARY_START_TIMEOUT,
                "maximum_lag_on_failover": 1048576,
                "synchronous_mode": True,
                "postgresql": {"use_pg_rewind": True, "use_slots": True, "parameters": PG_PARAMETERS},
            },
            "initdb": [{"auth": "trust"}, "no-sync"],
        },
        "postgresql": {
            "listen": f"127.0.0.1:{member.pg_port}",
            "connect_address": f"127.0.0.1:{member.pg_port}",
            "data_dir": str(member.datadir),
            "bin_dir": str(pg_bin_dir()),
            "pgpass": str(base / f"pgpass-{member.name}"),
            "authentication": {"superuser": {"username": "postgres"}, "replication": {"username": "postgres"}},
            "parameters": {"unix_socket_directories": str(base)},
            # Patroni talks to its own PostgreSQL over the Unix socket, as on a real host where a network
            # partition never cuts a process off its local server: over TCP its HA loop would hang on a
            # query while the member is isolated, and never demote.
            "use_unix_socket": True,
            "pg_hba": ["local all all trust", "host all all 127.0.0.1/32 trust",
                       "host replication all 127.0.0.1/32 trust"],
            "remove_data_directory_on_rewind_failure": True,
            "remove_data_directory_on_diverged_timelines": True,
        },
        "tags": {"nofailover": False, "noloadbalance": False, "clonefrom": False, "nosync": False},
    }


@dataclass
class PatroniLab:
    """etcd plus three Patroni members under one directory; every process is stopped by its PID."""

    base: Path
    scope: str
    etcd_port: int
    members: list[PatroniMember]
    etcd: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def member(self, name: str) -> PatroniMember:
        return next(m for m in self.members if m.name == name)

    def client_conninfo(self) -> str:
        return multi_host_conninfo([m.pg_port for m in self.members])

    def write_configs(self) -> list[Path]:
        for member in self.members:
            text = "# erpops-generated Patroni configuration; see failover/patroni_lab.py for each timer\n"
            text += yaml.safe_dump(member_config(self.scope, member, self.etcd_port, self.base), sort_keys=False)
            member.config.write_text(text)
        return [m.config for m in self.members]

    def start(self, timeout: float = 60) -> None:
        # One client URL for erpops and one per member, so that a member's path to the DCS can be cut alone.
        urls = ",".join(f"http://127.0.0.1:{p}" for p in [self.etcd_port, *(m.etcd_port for m in self.members)] if p)
        self.etcd = _spawn([ETCD, "--name", "e1", "--data-dir", str(self.base / "etcd"),
                            "--listen-client-urls", urls,
                            "--advertise-client-urls", f"http://127.0.0.1:{self.etcd_port}",
                            "--listen-peer-urls", f"http://127.0.0.1:{free_port()}",
                            "--initial-cluster-state", "new", "--log-level", "warn"],
                           self.base / "etcd.log", as_postgres=False)
        _wait_http(f"http://127.0.0.1:{self.etcd_port}/health", timeout)
        for member in self.members:
            self.start_member(member)
        self.wait_healthy(timeout)

    def start_member(self, member: PatroniMember) -> None:
        member.proc = _spawn([PATRONI, str(member.config)], self.base / f"{member.name}.log", as_postgres=True)

    def cluster(self, skip: Collection[str] = (), last: Collection[str] = ()) -> list[dict[str, Any]]:
        """Patroni's view of the members, from the first REST API that answers ([] when none does).

        `skip` names members not to ask (an isolated one answers nothing until the client times out);
        `last` names members asked only when no other answers (one just back from a partition may
        still serve the DCS picture it had before the cut).
        """
        for member in sorted(self.members, key=lambda m: m.name in last):
            if member.name in skip:
                continue
            try:
                data = httpx.get(f"{member.rest}/cluster", timeout=0.5).json()
                return list(data.get("members", []))
            except (httpx.HTTPError, ValueError):
                continue
        return []

    def wait_healthy(self, timeout: float) -> None:
        """Wait for one running leader, one running sync standby, and every member streaming."""
        deadline = time.monotonic() + timeout
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = self.cluster()
            roles = sorted(m.get("role", "") for m in seen if m.get("state") in ("running", "streaming"))
            if len(seen) == len(self.members) and roles == ["leader", "replica", "sync_standby"]:
                return
            time.sleep(0.2)
        raise LabError(f"Patroni lab not healthy after {timeout:.0f} s: {seen}")

    def stop(self) -> None:
        """SIGTERM every Patroni (it stops its PostgreSQL), then SIGKILL leftovers and etcd, by PID."""
        for member in self.members:
            _stop(member.proc, signal.SIGTERM, 20)
        for member in self.members:
            pid = member.postmaster_pid()
            if pid and alive(pid):
                os.kill(pid, signal.SIGKILL)
        _stop(self.etcd, signal.SIGTERM, 10)

    def save(self) -> Path:
        """Write `lab.json` with every PID, for `erpops failover lab down`."""
        path = self.base / "lab.json"
        agents = [p.pid for p in [*(m.proc for m in self.members), self.etcd] if p is not None]
        nodes = [{"name": m.name, "port": m.pg_port, "datadir": str(m.datadir), "pid": m.postmaster_pid()}
                 for m in self.members]
        path.write_text(json.dumps({"base": str(self.base), "kind": "patroni", "agents": agents, "nodes": nodes}))
        return path

    def detach(self) -> None:
        """Leave the processes running after this process exits; their PIDs stay in the JSON it printed."""
        for proc in [self.etcd, *(m.proc for m in self.members)]:
            if proc is not None:
                proc.returncode = 0  # nobody reaps it here; init does once the CLI has exited

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.base, ignore_errors=True)


def create_patroni_lab(members: int = 3, base: Path | None = None, start: bool = True) -> PatroniLab:
    """Write the tuned configuration for `members` Patroni members and (by default) start them."""
    base = base or make_base_dir()
    lab = PatroniLab(base, f"erpops-{base.name[-8:]}", free_port(), [
        PatroniMember(f"pg{i}", free_port(), free_port(), base / f"pg{i}", base / f"pg{i}.yml", free_port())
        for i in range(1, members + 1)
    ])
    lab.write_configs()
    if os.geteuid() == 0:
        for path in [*base.iterdir()]:
            shutil.chown(path, "postgres", "postgres")
    if start:
        try:
            lab.start()
        except BaseException:
            lab.destroy()
            raise
    return lab


def init_patroni_lab(engine: EngineName, start: bool) -> dict[str, Any]:
    """Write a Patroni lab's configuration (and start it, detached, when `start`); what and where, as data."""
    if engine is not EngineName.PATRONI:
        raise FailoverUsage(f"only --engine patroni has a configuration to write; {engine} needs none")
    lab = create_patroni_lab(start=start)
    data: dict[str, Any] = {
        "dir": str(lab.base), "configs": [str(m.config) for m in lab.members], "started": start,
        "etcd": f"127.0.0.1:{lab.etcd_port}", "conninfo": lab.client_conninfo(),
        "pids": {"etcd": lab.etcd.pid if lab.etcd else None,
                 **{m.name: m.proc.pid if m.proc else None for m in lab.members}},
    }
    if start:
        try:
            data["lab"] = str(lab.save())
        except BaseException:
            lab.destroy()
            raise
        lab.detach()
    return data


def _spawn(cmd: list[str], log: Path, as_postgres: bool) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        try:
            return subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, cwd="/tmp", start_new_session=True,
                                    user=server_user() if as_postgres else None)
        except FileNotFoundError as exc:
            raise LabError(f"{cmd[0]} is not installed (scripts/ensure-failover.sh installs patroni and "
                           "etcd)") from exc


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if answers(url, timeout=0.5):
            return
        time.sleep(0.1)
    raise LabError(f"{url} did not answer within {timeout:.0f} s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: signal.Signals, timeout: float) -> None:
    if proc is None or proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGCONT)
    os.kill(proc.pid, sig)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)
