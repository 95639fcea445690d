"""The `patroni` engine: a real Patroni cluster with etcd; erpops injects faults and watches Patroni decide.

Patroni does detection, election, fencing (demotion, leader lock expiry), promotion and pg_rewind; the
drill reads each step from Patroni's REST API (`/cluster`) and marks it with Patroni's own words.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time
from dataclasses import dataclass
from typing import Any

import httpx
import psycopg

from failover import isolation, pgsql
from failover.engines.base import HaEngine, Member, RejoinResult
from failover.patroni_lab import PatroniLab
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, Mark, Role
from failover.writer import TABLE

# What Patroni logs when a leader that cannot reach its DCS steps down (ha.py of Patroni 3.x).
DEMOTED = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) \w+: (demot(?:ed|ing) self because "
                     r"(?:DCS is not accessible|failed to update leader lock)[^\n]*)$", re.MULTILINE)


@dataclass(frozen=True)
class _Dsn:
    dsn: str
    port: int


ROLES = {"leader": Role.PRIMARY, "master": Role.PRIMARY, "sync_standby": Role.STANDBY, "replica": Role.STANDBY}


class PatroniEngine(HaEngine):
    """Drives a `PatroniLab`; owns it and stops every process by PID on `close`."""

    name = "patroni"

    def __init__(self, lab: PatroniLab) -> None:
        self.lab = lab
        self._cut: isolation.Cut | None = None
        self._isolated: str | None = None
        self._was_isolated: str | None = None
        self._log_offset = 0

    def _view(self) -> list[dict[str, Any]]:
        """Patroni's view, never asked of an isolated member (its REST API answers nothing)."""
        skip = () if self._isolated is None else (self._isolated,)
        return self.lab.cluster(skip=skip, last=() if self._was_isolated is None else (self._was_isolated,))

    def members(self) -> list[Member]:
        view = {m["name"]: m for m in self._view()}
        found = []
        for pm in self.lab.members:
            m = view.get(pm.name)
            if m is None or m.get("state") not in ("running", "streaming"):
                found.append(Member(pm.name, pm.pg_port, Role.DOWN, pm.postmaster_pid(),
                                    reason=str(m.get("state")) if m else "not in Patroni's view"))
                continue
            role = ROLES.get(str(m.get("role")), Role.STANDBY)
            sync = "sync" if m.get("role") == "sync_standby" else ("async" if role is Role.STANDBY else None)
            lag = m.get("lag")
            found.append(Member(pm.name, pm.pg_port, role, pm.postmaster_pid(), m.get("timeline"), sync,
                                lag if isinstance(lag, int) else None, f"{m.get('role')}, {m.get('state')}"))
        return found

    def client_conninfo(self) -> str:
        return self.lab.client_conninfo()

    def _leader(self) -> dict[str, Any] | None:
        return next((m for m in self._view() if m.get("role") in ("leader", "master")
                     and m.get("state") == "running"), None)

    def inject(self, fault: Fault, timeline: Timeline) -> str:
        self._was_isolated = None
        leader = self._leader()
        if leader is None:
            raise FailoverFailed("the Patroni cluster has no running leader to fail")
        member = self.lab.member(str(leader["name"]))
        pid = member.postmaster_pid()
        if fault is Fault.KILL and pid:
            os.kill(pid, signal.SIGKILL)
            timeline.mark(Mark.FAULT, f"kill -9 of postmaster pid {pid} on {member.name} (Patroni keeps running)")
        elif fault is Fault.CRASH and pid and member.proc is not None:
            os.kill(member.proc.pid, signal.SIGKILL)
            os.kill(pid, signal.SIGKILL)
            timeline.mark(Mark.FAULT, f"node crash of {member.name}: kill -9 of Patroni pid {member.proc.pid} "
                          f"and postmaster pid {pid}")
        elif fault is Fault.SWITCHOVER:
            timeline.mark(Mark.FAULT, f"planned switchover away from {member.name} requested")
            candidate = next((m["name"] for m in self._view() if m.get("role") == "sync_standby"), None)
            response = httpx.post(f"{member.rest}/switchover", json={"leader": member.name, "candidate": candidate},
                                  timeout=30)
            if response.status_code >= 400:
                raise FailoverFailed(f"Patroni refused the switchover: {response.text.strip()}")
        elif fault is Fault.ISOLATE:
            log = self.lab.base / f"{member.name}.log"
            self._log_offset = log.stat().st_size if log.exists() else 0
            ports = member.network_ports()
            self._cut = isolation.isolate(ports)
            self._isolated = self._was_isolated = member.name
            timeline.mark(Mark.FAULT, f"{member.name} isolated: nftables table {self._cut.table} drops every "
                          f"packet to or from its PostgreSQL, REST API and etcd client ports "
                          f"({', '.join(map(str, ports))}); Patroni and PostgreSQL keep running")
        else:
            raise FailoverFailed(f"the patroni engine cannot inject {fault} now")
        return member.name

    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if fault is Fault.ISOLATE and timeline.at(Mark.FENCING) is None:
                self._demotion(old, timeline)
            view = {m["name"]: m for m in self._view()}
            old_view = view.get(old)
            if timeline.at(Mark.DETECTION) is None and (old_view is None or old_view.get("state") != "running"
                                                         or fault is Fault.SWITCHOVER):
                state = old_view.get("state") if old_view else "gone from the DCS"
                timeline.mark(Mark.DETECTION, f"Patroni reports {old} as {state}")
            leader = next((n for n, m in view.items() if m.get("role") in ("leader", "master")), None)
            # An isolated leader still holds its lock until the lease expires: only a new holder is a decision.
            in_place = fault is not Fault.ISOLATE and timeline.at(Mark.DETECTION) is not None
            if leader and timeline.at(Mark.DECISION) is None and (leader != old or in_place):
                timeline.mark(Mark.DECISION, f"Patroni holds the leader lock for {leader}"
                              + (" (restarting PostgreSQL in place)" if leader == old else " (failover)"))
            if leader and leader != self._isolated and view[leader].get("state") == "running":
                node = self.lab.member(leader)
                if pgsql.tcp_probe(node.pg_port) is None and not pgsql.in_recovery(node):
                    if fault is Fault.ISOLATE and timeline.at(Mark.FENCING) is None:
                        self._fenced_locally(old, leader, timeline)
                    if timeline.at(Mark.DETECTION) is None:
                        timeline.mark(Mark.DETECTION, f"Patroni saw {old} fail between two looks")
                    if timeline.at(Mark.FENCING) is None:
                        timeline.mark(Mark.FENCING, f"the crashed instance of {old} is gone; Patroni restarted "
                                      "it" if leader == old else f"{old} demoted or gone: Patroni gave the lock "
                                      f"to {leader}")
                    timeline.mark(Mark.PROMOTION, f"{leader} runs as the Patroni leader, out of recovery")
                    if pgsql.try_write(node) is None:
                        timeline.mark(Mark.FIRST_WRITE, f"{leader} accepted erpops' probe write")
                        return str(leader)
            time.sleep(0.05)
        raise FailoverFailed(f"no Patroni leader accepted writes within {timeout:.0f} s")

    def _demotion(self, old: str, timeline: Timeline) -> None:
        """Mark detection and fencing when the isolated leader's Patroni logs that it stepped down.

        Its REST API cannot be asked (cut off), but its log is on this host; the mark carries the log
        line's own time, so it does not depend on when the drill happened to look.
        """
        log = self.lab.base / f"{old}.log"
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                f.seek(self._log_offset)
                text = f.read()
        except OSError:
            return
        match = DEMOTED.search(text)
        if match is None:
            return
        logged = dt.datetime.strptime(match.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
        at = time.monotonic() - max(0.0, time.time() - logged)
        if timeline.at(Mark.DETECTION) is None:
            timeline.mark(Mark.DETECTION, f"{old}'s Patroni cannot reach etcd and steps down", at)
        timeline.mark(Mark.FENCING, f"{old}'s Patroni log: {match.group(2)}", at)

    def _fenced_locally(self, old: str, leader: str, timeline: Timeline) -> None:
        """No demotion logged yet while `leader` is promoted: the isolated PostgreSQL must not be a primary.

        Asked over its Unix socket (the cut is TCP only, as a partition leaves a host's local socket alone).
        """
        member = self.lab.member(old)
        local = _Dsn(member.local_dsn, member.pg_port)
        try:
            primary = not pgsql.in_recovery(local)
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            timeline.mark(Mark.FENCING, f"{old}'s PostgreSQL is down (its Unix socket says: {first[:100]})")
            return
        if primary:
            raise FailoverFailed(f"split brain risk: {leader} was promoted while the isolated {old} still runs "
                                 "as a primary (its Patroni never demoted it)")
        timeline.mark(Mark.FENCING, f"{old}'s PostgreSQL runs in recovery (asked over its Unix socket)")

    def split_brain(self, old: str) -> str | None:
        leader = self._leader()
        for member in self.lab.members:
            if leader and member.name == leader["name"]:
                continue
            if pgsql.tcp_probe(member.pg_port) is None and pgsql.try_write(member) is None:
                return f"{member.name} accepted a write while {leader and leader['name']} is the leader"
        return None

    def committed(self, run: str) -> set[tuple[int, int]]:
        leader = self._leader()
        if leader is None:
            raise FailoverFailed("no leader to count the committed rows on")
        rows = pgsql.query(self.lab.member(str(leader["name"])), f"SELECT client, seq FROM {TABLE} WHERE run = %s",
                           (run,), timeout=30)
        return {(int(c), int(s)) for c, s in rows}

    def rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult:
        member = self.lab.member(old)
        if member.proc is None or member.proc.poll() is not None:
            self.lab.start_member(member)  # the crashed node comes back: its Patroni rewinds it
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            view = {m["name"]: m for m in self._view()}
            last = view.get(old, {})
            leader = next((m for m in view.values() if m.get("role") in ("leader", "master")), {})
            if last.get("role") in ("leader", "master") and last.get("state") == "running":
                timeline.mark(Mark.REWOUND, f"{old} restarted in place as leader: nothing to rewind")
                return self._wait_sync_partner(timeline, deadline, old)
            same_tli = last.get("timeline") == leader.get("timeline")
            if last.get("state") in ("running", "streaming") and same_tli and timeline.at(Mark.REWOUND) is None:
                timeline.mark(Mark.REWOUND, f"{old} runs as a replica on timeline {last.get('timeline')} "
                              "(rewound by Patroni)")
            sync = next((m["name"] for m in view.values() if m.get("role") == "sync_standby"
                         and m.get("timeline") == leader.get("timeline")), None)
            if timeline.at(Mark.REWOUND) is not None and sync:
                # With three members Patroni keeps one synchronous standby; the old primary may be the other.
                timeline.mark(Mark.BACK_IN_SYNC, f"{old} streams again and {sync} is the synchronous standby")
                return RejoinResult(True, f"{old} rejoined {leader.get('name')}; {sync} is its synchronous standby")
            time.sleep(0.1)
        return RejoinResult(False, f"{old} is not the synchronous standby after {timeout:.0f} s (last seen {last})")

    def _wait_sync_partner(self, timeline: Timeline, deadline: float, leader: str) -> RejoinResult:
        while time.monotonic() < deadline:
            if any(m.get("role") == "sync_standby" and m.get("state") in ("running", "streaming")
                   for m in self._view()):
                timeline.mark(Mark.BACK_IN_SYNC, f"{leader} has a synchronous standby again")
                return RejoinResult(True, f"{leader} restarted in place and has a synchronous standby")
            time.sleep(0.1)
        return RejoinResult(False, f"{leader} has no synchronous standby")

    def heal(self, timeline: Timeline) -> None:
        cut, self._cut, self._isolated = self._cut, None, None
        isolation.lift(cut, timeline)

    def close(self) -> None:
        try:
            cut, self._cut, self._isolated = self._cut, None, None
            isolation.lift(cut)
        finally:
            self.lab.destroy()
