"""Small SQL and socket probes of one PostgreSQL server, by DSN or lab node."""

from __future__ import annotations

import socket
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import psycopg

from failover.types import FailoverFailed

SSL_REQUEST = struct.pack("!ii", 8, 80877103)


class HasDsn(Protocol):
    @property
    def dsn(self) -> str: ...

    @property
    def port(self) -> int: ...


@dataclass(frozen=True)
class ReplicaState:
    """One row of `pg_stat_replication` on a primary."""

    application_name: str
    state: str
    sync_state: str
    replay_lag_bytes: int


def postmaster_pid(datadir: Path) -> int | None:
    """The PID of the postmaster serving `datadir`, from its postmaster.pid, or None when it is not running."""
    try:
        return int((datadir / "postmaster.pid").read_text().split("\n", 1)[0])
    except (FileNotFoundError, ValueError):
        return None


def tcp_probe(port: int, timeout: float = 0.5, host: str = "127.0.0.1") -> str | None:
    """None when the postmaster answers an SSLRequest within `timeout`, else why it did not.

    A hung (SIGSTOPped) postmaster still completes the TCP handshake in the kernel, so only an answer
    to the SSLRequest proves it is alive; a refused connection proves it is gone.
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(SSL_REQUEST)
            answer = sock.recv(1)
    except ConnectionRefusedError:
        return "connection refused"
    except TimeoutError:
        return f"no answer within {timeout:.1f} s"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"
    return None if answer in (b"N", b"S") else f"unexpected answer {answer!r}"


def query(node: HasDsn, sql: str, params: tuple[Any, ...] = (), timeout: float = 5) -> list[tuple[Any, ...]]:
    """Run one statement in autocommit with a server-side timeout and return its rows."""
    with psycopg.connect(node.dsn, autocommit=True, options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
        cur = conn.execute(sql, params)
        return cur.fetchall() if cur.description else []


def in_recovery(node: HasDsn) -> bool:
    return bool(query(node, "SELECT pg_is_in_recovery()")[0][0])


def replicas(node: HasDsn) -> list[ReplicaState]:
    rows = query(
        node,
        "SELECT application_name, state, sync_state,"
        " coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn), 0)::bigint"
        " FROM pg_stat_replication ORDER BY application_name",
    )
    return [ReplicaState(str(a), str(s), str(y), int(lag)) for a, s, y, lag in rows]


def current_timeline(node: HasDsn) -> int:
    """The timeline the server writes (or replays) now; the control file may still show an older one."""
    rows = query(
        node,
        "SELECT CASE WHEN pg_is_in_recovery() THEN (SELECT received_tli FROM pg_stat_wal_receiver)"
        " ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END",
    )
    return int(rows[0][0] or 0)


def checkpoint_timeline(node: HasDsn) -> int:
    """The timeline of the last checkpoint in the control file (what pg_rewind reads)."""
    return int(query(node, "SELECT timeline_id FROM pg_control_checkpoint()")[0][0])


def wait_sync_standby(primary: HasDsn, name: str, timeout: float = 30) -> ReplicaState:
    """Wait until `name` streams to `primary` as its synchronous standby."""
    deadline = time.monotonic() + timeout
    last: list[ReplicaState] = []
    while time.monotonic() < deadline:
        try:
            last = replicas(primary)
        except psycopg.Error:
            last = []
        for row in last:
            if row.application_name == name and row.state == "streaming" and row.sync_state == "sync":
                return row
        time.sleep(0.05)
    raise FailoverFailed(f"{name} is not a synchronous standby after {timeout:.0f} s (seen: {last})")


def wait_rejoined(primary: HasDsn, standby: HasDsn, name: str, timeout: float = 30, hold: float = 0.5) -> None:
    """Wait until `standby` streams `primary`'s current timeline as its sync standby, steadily for `hold` s.

    A diverged old primary streams the old timeline up to the fork, is cut off and retries: a single
    `streaming, sync` row is not proof, the timeline it receives and a steady state are.
    """
    deadline = time.monotonic() + timeout
    steady_since: float | None = None
    seen = "nothing yet"
    while time.monotonic() < deadline:
        try:
            tli = current_timeline(primary)
            rows = [r for r in replicas(primary) if r.application_name == name]
            receiver = query(standby, "SELECT status, received_tli FROM pg_stat_wal_receiver")
        except psycopg.Error as exc:
            rows, receiver, tli, seen = [], [], 0, str(exc).strip()[:120]
        ok = (bool(rows) and rows[0].state == "streaming" and rows[0].sync_state == "sync"
              and bool(receiver) and receiver[0][0] == "streaming" and receiver[0][1] == tli)
        if ok:
            steady_since = steady_since or time.monotonic()
            if time.monotonic() - steady_since >= hold:
                return
        else:
            steady_since = None
            if rows or receiver:
                seen = f"replication {rows[0] if rows else 'absent'}, receiver {receiver}, primary timeline {tli}"
        time.sleep(0.05)
    raise FailoverFailed(f"{name} is not a steady synchronous standby after {timeout:.0f} s ({seen})")


def set_sync_names(node: HasDsn, value: str) -> None:
    """Change `synchronous_standby_names` and reload (allowed on a standby too)."""
    query(node, f"ALTER SYSTEM SET synchronous_standby_names = '{value}'")
    query(node, "SELECT pg_reload_conf()")


def promote(node: HasDsn, timeout: float = 30) -> None:
    """Request promotion and return as soon as the server leaves recovery (polled every 10 ms)."""
    deadline = time.monotonic() + timeout
    with psycopg.connect(node.dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_promote(false)")
        while time.monotonic() < deadline:
            row = conn.execute("SELECT pg_is_in_recovery()").fetchone()
            if row is not None and not row[0]:
                return
            time.sleep(0.005)
    raise FailoverFailed(f"promotion did not finish within {timeout:.0f} s on port {node.port}")


def try_write(node: HasDsn, timeout: float = 2) -> str | None:
    """None when `node` accepted a write, else the error it gave (the split-brain check)."""
    try:
        with psycopg.connect(node.dsn, autocommit=True, connect_timeout=max(2, int(timeout)),
                             options=f"-c statement_timeout={int(timeout * 1000)}") as conn:
            conn.execute("CREATE TEMP TABLE erpops_split_brain_probe (x int)")
            conn.execute("INSERT INTO erpops_split_brain_probe VALUES (1)")
            conn.execute("CREATE TABLE IF NOT EXISTS erpops_split_brain_probe_persistent (x int)")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None
