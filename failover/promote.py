"""Promote a standby by hand, as the manual engine's runbook does it (the `PostgresqlDown` runbook's step).

The target is a member of a saved lab (named, or the lab's only standby) or any standby reached by a libpq
DSN (`--standby`, or the configured `standby_dsn`). The steps, each returned with its reason:
1. the target answers and is a standby in recovery (else there is nothing to promote);
2. no primary is still up: in a lab, no other member accepts writes; by DSN, the standby no longer streams
   from a primary (a live primary plus a promoted standby is a split brain), unless `force`;
3. unless `strict_sync`, `synchronous_standby_names` is cleared so commits do not wait for a standby
   that is gone (the manual engine's non-strict mode);
4. `pg_promote()`, then a write that must commit (an xid assigned and committed, nothing left behind);
5. `CHECKPOINT`, so that `pg_rewind` of the old primary sees the new timeline in the control file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from failover import pgsql
from failover.saved_lab import read_lab_file
from failover.types import FailoverFailed, FailoverUsage, LabError


@dataclass(frozen=True)
class Server:
    """One PostgreSQL server by DSN (a lab member or any standby)."""

    name: str
    dsn: str
    port: int


@dataclass(frozen=True)
class PromoteTarget:
    """The standby to promote, and the other members that must not be a live primary (lab targets only)."""

    standby: Server
    others: tuple[Server, ...] = ()
    source: str = ""  # where the target came from, for the result


@dataclass
class PromoteResult:
    """What `promote` did, step by step, and the sentence that sums it up."""

    member: str
    port: int
    source: str
    timeline: int = 0
    seconds: float = 0.0
    steps: list[str] = field(default_factory=list)
    reason: str = ""


def lab_target(lab: Path, member: str | None = None) -> PromoteTarget:
    """The lab member to promote: `member`, else the lab's one standby in recovery."""
    data = read_lab_file(lab)
    if data.get("kind") == "patroni":
        raise FailoverUsage(f"{lab} is a Patroni lab: Patroni promotes its members (`patronictl failover`)")
    members = [Server(str(n["name"]), _lab_dsn(int(n["port"])), int(n["port"])) for n in data.get("nodes", [])]
    names = [m.name for m in members]
    if member is not None and member not in names:
        raise FailoverUsage(f"no member named {member!r} in {lab}; members: {', '.join(names)}")
    chosen = member or _the_standby(members)
    standby = next(m for m in members if m.name == chosen)
    return PromoteTarget(standby, tuple(m for m in members if m.name != chosen), f"lab {lab}")


def dsn_target(dsn: str, source: str = "--standby") -> PromoteTarget:
    """A standby reached by a libpq DSN (`host=... port=... user=...`)."""
    try:
        parts = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError as exc:
        raise FailoverUsage(f"{source} is not a libpq connection string: {str(exc).strip()}") from exc
    port = int(str(parts.get("port") or 5432).split(",")[0])
    name = f"{parts.get('host') or 'localhost'}:{port}"
    return PromoteTarget(Server(name, make_conninfo(dsn, connect_timeout=parts.get("connect_timeout") or 3), port),
                         source=source)


def promote(target: PromoteTarget, force: bool = False, strict_sync: bool = False,
            timeout: float = 60.0) -> PromoteResult:
    """Promote `target.standby` by the steps of the module docstring; raises `FailoverFailed` with the reason
    when there is nothing to promote or a primary is still up, `LabError` when the standby does not answer."""
    started = time.monotonic()
    standby = target.standby
    result = PromoteResult(standby.name, standby.port, target.source)
    _check_standby(standby)
    result.steps.append(f"{standby.name} answers and is a standby in recovery")
    result.steps.append(_check_no_primary(target, force))
    if not strict_sync:
        pgsql.set_sync_names(standby, "")
        result.steps.append(f"synchronous_standby_names cleared on {standby.name}: commits will not wait for a "
                            "standby that is gone (set strict_sync to keep them waiting)")
    pgsql.promote(standby, timeout)
    result.steps.append(f"{standby.name} left recovery after pg_promote()")
    if strict_sync:
        result.steps.append("strict_sync: no write probe, commits wait until a synchronous standby streams")
    else:
        _write_probe(standby, timeout)
        result.steps.append(f"{standby.name} committed a write")
    pgsql.query(standby, "CHECKPOINT", timeout=timeout)
    result.steps.append("CHECKPOINT: the control file names the new timeline, which pg_rewind of the old "
                        "primary needs to see the fork")
    result.timeline = pgsql.current_timeline(standby)
    result.seconds = round(time.monotonic() - started, 3)
    result.reason = f"{standby.name} is the primary on timeline {result.timeline} ({result.seconds:.2f} s)"
    return result


def _lab_dsn(port: int) -> str:
    return f"host=127.0.0.1 port={port} user=postgres dbname=postgres connect_timeout=2"


def _the_standby(members: list[Server]) -> str:
    roles = {m.name: _role(m) for m in members}
    standbys = [name for name, role in roles.items() if role == "standby"]
    if len(standbys) == 1:
        return standbys[0]
    seen = ", ".join(f"{name} {role}" for name, role in roles.items())
    if not standbys:
        raise FailoverFailed(f"nothing to promote: no member of the lab is a standby in recovery ({seen})")
    raise FailoverUsage(f"{len(standbys)} standbys ({seen}): name the one to promote with --member")


def _role(server: Server) -> str:
    if pgsql.tcp_probe(server.port, 1.0) is not None:
        return "down"
    try:
        return "standby" if pgsql.in_recovery(server) else "primary"
    except psycopg.Error:
        return "down"


def _check_standby(standby: Server) -> None:
    try:
        in_recovery = pgsql.in_recovery(standby)
    except psycopg.Error as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise LabError(f"{standby.name} does not answer: {first}") from exc
    if not in_recovery:
        raise FailoverFailed(f"nothing to promote: {standby.name} already accepts writes (it is not in recovery)")


def _check_no_primary(target: PromoteTarget, force: bool) -> str:
    live = [m.name for m in target.others if _role(m) == "primary"]
    if not target.others:
        rows = pgsql.query(target.standby, "SELECT status, sender_host, sender_port FROM pg_stat_wal_receiver")
        live = [f"{host}:{port}" for status, host, port in rows if status == "streaming"]
        why = f"{target.standby.name} still streams from its primary at {', '.join(live)}"
    else:
        why = f"{', '.join(live)} still accepts writes"
    if not live:
        return "no primary answers: promoting cannot split the brain"
    if force:
        return f"--force: promoting although {why} (fence it now: two primaries take diverging writes)"
    raise FailoverFailed(f"{why}: promoting {target.standby.name} would split the brain; fence the primary "
                         "first (or pass --force)")


def _write_probe(server: Server, timeout: float) -> None:
    deadline, last = time.monotonic() + timeout, ""
    while time.monotonic() < deadline:
        try:
            with psycopg.connect(server.dsn, autocommit=False) as conn:
                conn.execute("SELECT pg_current_xact_id()")  # an xid: its commit is WAL, as an order's is
            return
        except psycopg.Error as exc:
            last = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            time.sleep(0.05)
    raise FailoverFailed(f"{server.name} accepts no write after promotion: {last}")
