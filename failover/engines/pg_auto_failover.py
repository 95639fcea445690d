"""The `pg_auto_failover` engine: a monitor and two keepers; erpops injects faults and reads the monitor.

The monitor decides (health checks, `prepare_promotion`), fences (`draining`, `demote_timeout`) and the
keepers promote and rejoin; each mark quotes the states `pg_autoctl show state` reported.
"""

from __future__ import annotations

import os
import signal
import time
from typing import Any

from failover import pgsql
from failover.autofailover_lab import AutoFailoverLab, Keeper
from failover.engines.base import HaEngine, Member, RejoinResult
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, Mark, Role
from failover.writer import TABLE

PRIMARY_STATES = {"single", "primary", "wait_primary"}


class AutoFailoverEngine(HaEngine):
    """Drives an `AutoFailoverLab`; owns it and stops every process group by PID on `close`."""

    name = "pg_auto_failover"

    def __init__(self, lab: AutoFailoverLab) -> None:
        self.lab = lab

    def _states(self) -> dict[str, dict[str, Any]]:
        return {str(n["nodename"]): n for n in self.lab.state()}

    def members(self) -> list[Member]:
        states = self._states()
        found = []
        for keeper in self.lab.nodes:
            s = states.get(keeper.name, {})
            current = str(s.get("current_group_state", "unknown"))
            healthy = s.get("health") == 1
            role = (Role.PRIMARY if current in PRIMARY_STATES else Role.STANDBY) if healthy else Role.DOWN
            sync = "sync" if current == "secondary" else None
            found.append(Member(keeper.name, keeper.port, role, keeper.postmaster_pid(), s.get("reported_tli"),
                                sync, None, f"{current} -> {s.get('assigned_group_state')}"))
        return found

    def client_conninfo(self) -> str:
        return self.lab.client_conninfo()

    def _writable(self) -> Keeper | None:
        for keeper in self.lab.nodes:
            if pgsql.tcp_probe(keeper.port) is None and pgsql.try_write(keeper) is None:
                return keeper
        return None

    def inject(self, fault: Fault, timeline: Timeline) -> str:
        states = self._states()
        old = next((n for n, s in states.items() if s.get("current_group_state") in ("primary", "single")), None)
        if old is None:
            raise FailoverFailed("the pg_auto_failover formation has no primary to fail")
        keeper = self.lab.node(old)
        if fault is Fault.CRASH:
            pgid = self.lab.crash(old)
            timeline.mark(Mark.FAULT, f"node crash of {old}: kill -9 of process group {pgid} (keeper + PostgreSQL)")
        elif fault is Fault.KILL and keeper.postmaster_pid():
            pid = keeper.postmaster_pid()
            os.kill(pid or 0, signal.SIGKILL)
            timeline.mark(Mark.FAULT, f"kill -9 of postmaster pid {pid} on {old} (its keeper keeps running)")
        else:
            raise FailoverFailed(f"the pg_auto_failover engine cannot inject {fault}")
        return old

    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            states = self._states()
            o = states.get(old, {})
            others = {n: s for n, s in states.items() if n != old}
            if timeline.at(Mark.DETECTION) is None and o.get("health") == 0:
                timeline.mark(Mark.DETECTION, f"the monitor marked {old} unhealthy")
            if timeline.at(Mark.DECISION) is None and any(
                    s.get("assigned_group_state") in ("prepare_promotion", "stop_replication", "wait_primary")
                    for s in others.values()):
                timeline.mark(Mark.DECISION, f"the monitor assigned prepare_promotion to {', '.join(others)}")
            if timeline.at(Mark.FENCING) is None and o.get("assigned_group_state") in (
                    "draining", "demote_timeout", "demoted"):
                timeline.mark(Mark.FENCING, f"the monitor assigned {o.get('assigned_group_state')} to {old}")
            keeper = self._writable()
            if keeper is not None:
                for mark, why in ((Mark.DETECTION, f"{old} failed (seen only by its outcome)"),
                                  (Mark.DECISION, "the monitor chose a new primary"),
                                  (Mark.FENCING, f"{old} no longer primary")):
                    if timeline.at(mark) is None:
                        timeline.mark(mark, why)
                timeline.mark(Mark.PROMOTION, f"{keeper.name} reports "
                              f"{states.get(keeper.name, {}).get('current_group_state')}")
                timeline.mark(Mark.FIRST_WRITE, f"{keeper.name} accepted erpops' probe write")
                return keeper.name
            time.sleep(0.1)
        raise FailoverFailed(f"no pg_auto_failover node accepted writes within {timeout:.0f} s")

    def split_brain(self, old: str) -> str | None:
        writable = [k.name for k in self.lab.nodes
                    if pgsql.tcp_probe(k.port) is None and pgsql.try_write(k) is None]
        return f"{len(writable)} nodes accept writes: {writable}" if len(writable) > 1 else None

    def committed(self, run: str) -> set[tuple[int, int]]:
        keeper = self._writable()
        if keeper is None:
            raise FailoverFailed("no node accepts writes to count the committed rows on")
        rows = pgsql.query(keeper, f"SELECT client, seq FROM {TABLE} WHERE run = %s", (run,), timeout=30)
        return {(int(c), int(s)) for c, s in rows}

    def rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult:
        keeper = self.lab.node(old)
        if keeper.proc is None or keeper.proc.poll() is not None:
            self.lab.restart(old)
        deadline = time.monotonic() + timeout
        last: dict[str, Any] = {}
        while time.monotonic() < deadline:
            states = self._states()
            last = states.get(old, {})
            if timeline.at(Mark.REWOUND) is None and last.get("current_group_state") in ("catchingup", "secondary"):
                timeline.mark(Mark.REWOUND, f"{old} reports {last.get('current_group_state')} (rewound by its keeper)")
            primary_ok = any(s.get("current_group_state") == "primary" for n, s in states.items() if n != old)
            if last.get("current_group_state") == "secondary" and primary_ok:
                timeline.mark(Mark.BACK_IN_SYNC, f"{old} is secondary and the new primary is back to primary state")
                return RejoinResult(True, f"{old} rejoined as the synchronous secondary")
            if last.get("current_group_state") in PRIMARY_STATES and not any(
                    n != old and s.get("current_group_state") in PRIMARY_STATES for n, s in states.items()):
                if timeline.at(Mark.REWOUND) is None:
                    timeline.mark(Mark.REWOUND, f"{old} restarted in place as primary: nothing to rewind")
                if last.get("current_group_state") == "primary":
                    timeline.mark(Mark.BACK_IN_SYNC, f"{old} is primary with its secondary again")
                    return RejoinResult(True, f"{old} restarted in place and has its secondary")
            time.sleep(0.2)
        return RejoinResult(False, f"{old} is not a secondary after {timeout:.0f} s (last seen {last})")

    def close(self) -> None:
        self.lab.destroy()
