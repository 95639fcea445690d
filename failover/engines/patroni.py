"""The `patroni` engine: a real Patroni cluster with etcd; erpops injects faults and watches Patroni decide.

Patroni does detection, election, fencing (demotion, leader lock expiry), promotion and pg_rewind; the
drill reads each step from Patroni's REST API (`/cluster`) and marks it with Patroni's own words.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

import httpx

from failover import pgsql
from failover.engines.base import HaEngine, Member, RejoinResult
from failover.patroni_lab import PatroniLab
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, Mark, Role
from failover.writer import TABLE

ROLES = {"leader": Role.PRIMARY, "master": Role.PRIMARY, "sync_standby": Role.STANDBY, "replica": Role.STANDBY}


class PatroniEngine(HaEngine):
    """Drives a `PatroniLab`; owns it and stops every process by PID on `close`."""

    name = "patroni"

    def __init__(self, lab: PatroniLab) -> None:
        self.lab = lab

    def members(self) -> list[Member]:
        view = {m["name"]: m for m in self.lab.cluster()}
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
        return next((m for m in self.lab.cluster() if m.get("role") in ("leader", "master")
                     and m.get("state") == "running"), None)

    def inject(self, fault: Fault, timeline: Timeline) -> str:
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
            candidate = next((m["name"] for m in self.lab.cluster() if m.get("role") == "sync_standby"), None)
            response = httpx.post(f"{member.rest}/switchover", json={"leader": member.name, "candidate": candidate},
                                  timeout=30)
            if response.status_code >= 400:
                raise FailoverFailed(f"Patroni refused the switchover: {response.text.strip()}")
        else:
            raise FailoverFailed(f"the patroni engine cannot inject {fault} now")
        return member.name

    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            view = {m["name"]: m for m in self.lab.cluster()}
            old_view = view.get(old)
            if timeline.at(Mark.DETECTION) is None and (old_view is None or old_view.get("state") != "running"
                                                         or fault is Fault.SWITCHOVER):
                state = old_view.get("state") if old_view else "gone from the DCS"
                timeline.mark(Mark.DETECTION, f"Patroni reports {old} as {state}")
            leader = next((n for n, m in view.items() if m.get("role") in ("leader", "master")), None)
            if leader and timeline.at(Mark.DECISION) is None and (leader != old or timeline.at(Mark.DETECTION)):
                timeline.mark(Mark.DECISION, f"Patroni holds the leader lock for {leader}"
                              + (" (restarting PostgreSQL in place)" if leader == old else " (failover)"))
            if leader and view[leader].get("state") == "running":
                node = self.lab.member(leader)
                if pgsql.tcp_probe(node.pg_port) is None and not pgsql.in_recovery(node):
                    if timeline.at(Mark.DETECTION) is None:
                        timeline.mark(Mark.DETECTION, f"Patroni saw {old} fail between two looks")
                    timeline.mark(Mark.FENCING, f"the crashed instance of {old} is gone; Patroni restarted it"
                                  if leader == old else f"{old} demoted or gone: Patroni gave the lock to {leader}")
                    timeline.mark(Mark.PROMOTION, f"{leader} runs as the Patroni leader, out of recovery")
                    if pgsql.try_write(node) is None:
                        timeline.mark(Mark.FIRST_WRITE, f"{leader} accepted erpops' probe write")
                        return str(leader)
            time.sleep(0.05)
        raise FailoverFailed(f"no Patroni leader accepted writes within {timeout:.0f} s")

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
            view = {m["name"]: m for m in self.lab.cluster()}
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
                   for m in self.lab.cluster()):
                timeline.mark(Mark.BACK_IN_SYNC, f"{leader} has a synchronous standby again")
                return RejoinResult(True, f"{leader} restarted in place and has a synchronous standby")
            time.sleep(0.1)
        return RejoinResult(False, f"{leader} has no synchronous standby")

    def close(self) -> None:
        self.lab.destroy()
