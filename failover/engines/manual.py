"""The `manual` engine: a primary, a synchronous standby, no HA manager; erpops runs the runbook itself.

Runbook: detect (SSLRequest probes; an isolated primary answers nothing), decide (enough failed probes and a standby that was synchronous),
fence the old primary (SIGKILL of every process, port refused), keep orders flowing (drop the sync
requirement while alone, unless strict), promote, first write, CHECKPOINT the new primary (pg_rewind
reads its control file), pg_rewind the old primary, start it as a standby, restore synchronous mode.
Strict mode (`strict_sync`) never runs alone: commits wait from the promotion until the old primary is
rewound and streams as the synchronous standby, which the runbook does at once, inside the failover.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import psycopg

from failover import isolation, pgsql
from failover.engines.base import Decision, HaEngine, Member, RejoinResult
from failover.lab import Lab, PgNode, run_pg
from failover.timeline import Timeline
from failover.types import FailoverFailed, Fault, LabError, Mark, Role
from failover.writer import TABLE


@dataclass(frozen=True)
class ManualPolicy:
    """The knobs of the manual runbook; defaults favour a fast failover that never loses an ack."""

    probe_interval: float = 0.1
    probe_timeout: float = 0.3
    failure_threshold: int = 3
    checkpoint_before_rewind: bool = True
    strict_sync: bool = False


def decide_failover(failures: int, threshold: int, last_error: str, standby: str,
                    standby_was_sync: bool, standby_in_recovery: bool) -> Decision:
    """Promote only after `threshold` failed probes in a row, and only a standby that was synchronous."""
    if failures < threshold:
        return Decision("wait", f"primary failed {failures} of {threshold} probes in a row ({last_error})")
    if not standby_in_recovery:
        return Decision("refuse", f"{standby} is not a standby in recovery: nothing safe to promote")
    if not standby_was_sync:
        return Decision("refuse", f"{standby} was not the synchronous standby at the last observation: "
                        "promoting it could lose acknowledged commits")
    return Decision("promote", f"primary failed {failures} probes in a row ({last_error}); {standby} was "
                    "the synchronous standby, so it holds every acknowledged commit")


def rewind_verdict(output: str, source_checkpoint_tli: int, source_current_tli: int) -> str | None:
    """The divergence pg_rewind could not see, or None.

    pg_rewind compares timelines from the source's control file; right after a promotion that file still
    shows the old timeline until a checkpoint, so pg_rewind answers "no rewind required" and the old
    primary keeps WAL the new primary never had.
    """
    if "no rewind required" in output and source_checkpoint_tli < source_current_tli:
        return (f"pg_rewind reported no rewind required, but the new primary writes timeline "
                f"{source_current_tli} while its control file still says {source_checkpoint_tli} "
                "(promoted without a checkpoint): the old primary may keep diverged data")
    return None


class ManualEngine(HaEngine):
    """Drives a `Lab` pair by the manual runbook; owns the lab and stops it on `close`."""

    name = "manual"

    def __init__(self, lab: Lab, policy: ManualPolicy | None = None) -> None:
        self.lab = lab
        self.policy = policy or ManualPolicy()
        self._sync_seen: dict[str, bool] = {}
        self._cut: isolation.Cut | None = None
        self._strict_result: RejoinResult | None = None

    def members(self) -> list[Member]:
        found = [self._member(node) for node in self.lab.nodes]
        primaries = [m for m in found if m.role is Role.PRIMARY]
        if primaries:
            rows = _safe_replicas(self.lab.node(primaries[0].name))
            found = [_with_replica(m, rows) for m in found]
            self._sync_seen = {m.name: m.sync_state == "sync" for m in found if m.role is Role.STANDBY}
        return found

    def _member(self, node: PgNode) -> Member:
        if node.proc is not None and not node.running():
            return Member(node.name, node.port, Role.DOWN, None, reason="not running")
        error = pgsql.tcp_probe(node.port, self.policy.probe_timeout)
        if error:
            return Member(node.name, node.port, Role.DOWN, node.pid, reason=error)
        try:
            role = Role.STANDBY if pgsql.in_recovery(node) else Role.PRIMARY
            tli = pgsql.current_timeline(node)
        except psycopg.Error as exc:
            return Member(node.name, node.port, Role.DOWN, node.pid, reason=str(exc).strip()[:120])
        return Member(node.name, node.port, role, node.pid, tli, reason="answers")

    def client_conninfo(self) -> str:
        return self.lab.client_conninfo()

    def _primary_node(self) -> PgNode:
        for node in self.lab.nodes:
            if node.running() and pgsql.tcp_probe(node.port, 1.0) is None and not pgsql.in_recovery(node):
                return node
        raise FailoverFailed("no member of the lab accepts writes")

    def _standby_of(self, primary: str) -> PgNode:
        return next(n for n in self.lab.nodes if n.name != primary)

    def inject(self, fault: Fault, timeline: Timeline) -> str:
        self._strict_result = None
        self.members()  # the last observation of who is synchronous, for the decision
        primary = self._primary_node()
        if fault in (Fault.KILL, Fault.CRASH):  # no agent: a node crash is a PostgreSQL crash
            primary.kill()
            timeline.mark(Mark.FAULT, f"kill -9 of postmaster pid {primary.pid} on {primary.name}")
        elif fault is Fault.HANG:
            primary.hang()
            timeline.mark(Mark.FAULT, f"SIGSTOP of {len(primary.pids())} processes of {primary.name}")
        elif fault is Fault.SWITCHOVER:
            timeline.mark(Mark.FAULT, f"planned switchover away from {primary.name} requested")
        elif fault is Fault.ISOLATE:
            self._cut = isolation.isolate([primary.port])
            timeline.mark(Mark.FAULT, f"{primary.name} isolated: nftables table {self._cut.table} drops every "
                          f"packet to or from port {primary.port} (clients, standby and monitor hear nothing)")
        else:
            raise FailoverFailed(f"the manual engine cannot inject {fault}")
        return primary.name

    def recover(self, fault: Fault, old: str, timeline: Timeline, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        old_node, standby = self.lab.node(old), self._standby_of(old)
        if fault is Fault.SWITCHOVER:
            timeline.mark(Mark.DETECTION, "planned: no failure to detect")
            timeline.mark(Mark.DECISION, f"planned switchover: stop {old} cleanly so that every WAL record "
                          f"reaches {standby.name}, then promote it")
            old_node.stop("fast")
            timeline.mark(Mark.FENCING, f"{old} shut down cleanly (fast mode, pid {old_node.pid})")
        else:
            self._detect_and_decide(old_node, standby, timeline, deadline)
            old_node.fence()
            probe = pgsql.tcp_probe(old_node.port, self.policy.probe_timeout)
            how = ("STONITH through the host (its network is cut, it cannot be asked): SIGKILL of every "
                   f"process of {old}" if fault is Fault.ISOLATE else f"SIGKILL of every process of {old}")
            timeline.mark(Mark.FENCING, f"{how}; its port now says: {probe}")
        if not self.policy.strict_sync:
            pgsql.set_sync_names(standby, "")
            timeline.mark("sync_dropped", f"{standby.name} will run alone: synchronous_standby_names "
                          "cleared so orders are not blocked until a standby rejoins (non-strict mode)")
        pgsql.promote(standby, max(1.0, deadline - time.monotonic()))
        timeline.mark(Mark.PROMOTION, f"{standby.name} left recovery after pg_promote()")
        if self.policy.strict_sync:
            return self._strict_rejoin(old, standby, timeline, deadline)
        self._first_write(standby, timeline, deadline)
        if self.policy.checkpoint_before_rewind:
            pgsql.query(standby, "CHECKPOINT", timeout=60)
            timeline.mark("checkpoint", f"CHECKPOINT on {standby.name}: its control file now names the new "
                          "timeline, which pg_rewind needs to see the fork")
        return standby.name

    def _strict_rejoin(self, old: str, primary: PgNode, timeline: Timeline, deadline: float) -> str:
        """Strict mode: the new primary keeps `synchronous_standby_names`, so every commit waits for a
        synchronous standby, and the only candidate is the old primary: rewind and start it now, while the
        clients' commits wait, instead of after the drill (the network must be back for that).
        """
        pgsql.query(primary, "CHECKPOINT", timeout=60)
        timeline.mark("checkpoint", f"CHECKPOINT on {primary.name}: its control file now names the new "
                      "timeline, which pg_rewind needs to see the fork")
        timeline.mark("writes_waiting", f"strict mode: {primary.name} keeps synchronous_standby_names, commits "
                      f"wait until {old} is back as its synchronous standby")
        self.heal(timeline)  # an isolated old primary is rewound over the network: the partition must heal
        self._strict_result = self._rejoin(old, timeline, max(5.0, deadline - time.monotonic()))
        if not self._strict_result.ok:
            raise FailoverFailed(f"strict mode: no synchronous standby for {primary.name}, commits still wait: "
                                 f"{self._strict_result.reason}")
        # Only now: with no synchronous standby the probe's commit would wait, and a canceled wait returns
        # success with a WARNING (the commit is local only), which must never count as a first write.
        self._first_write(primary, timeline, deadline)
        return primary.name

    def _detect_and_decide(self, old: PgNode, standby: PgNode, timeline: Timeline, deadline: float) -> None:
        failures, p = 0, self.policy
        while time.monotonic() < deadline:
            error = pgsql.tcp_probe(old.port, p.probe_timeout)
            if error is None:
                failures = 0
                time.sleep(p.probe_interval)
                continue
            failures += 1
            if failures == 1:
                timeline.mark(Mark.DETECTION, f"probe of {old.name} failed: {error}")
            try:
                in_recovery = pgsql.in_recovery(standby)
            except psycopg.Error:
                in_recovery = False
            decision = decide_failover(failures, p.failure_threshold, error, standby.name,
                                       self._sync_seen.get(standby.name, False), in_recovery)
            if decision.action == "promote":
                timeline.mark(Mark.DECISION, decision.reason)
                return
            if decision.action == "refuse":
                raise FailoverFailed(decision.reason)
            time.sleep(p.probe_interval)
        raise FailoverFailed(f"{old.name} still answered or no decision before the deadline")

    def _first_write(self, node: PgNode, timeline: Timeline, deadline: float) -> None:
        last = ""
        while time.monotonic() < deadline:
            error = pgsql.try_write(node)
            if error is None:
                timeline.mark(Mark.FIRST_WRITE, f"{node.name} accepted erpops' probe write")
                return
            last = error
            time.sleep(0.02)
        raise FailoverFailed(f"{node.name} accepts no write after promotion: {last}")

    def split_brain(self, old: str) -> str | None:
        node = self.lab.node(old)
        if pgsql.tcp_probe(node.port, self.policy.probe_timeout) is not None:
            return None
        error = pgsql.try_write(node)
        return None if error else f"{old} accepted a write after fencing"

    def committed(self, run: str) -> set[tuple[int, int]]:
        rows = pgsql.query(self._primary_node(), f"SELECT client, seq FROM {TABLE} WHERE run = %s", (run,),
                           timeout=30)
        return {(int(c), int(s)) for c, s in rows}

    def rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult:
        if self._strict_result is not None:  # strict mode rejoined it during the failover already
            done, self._strict_result = self._strict_result, None
            return done
        return self._rejoin(old, timeline, timeout)

    def _rejoin(self, old: str, timeline: Timeline, timeout: float) -> RejoinResult:
        deadline = time.monotonic() + timeout
        node, primary = self.lab.node(old), self._primary_node()
        node.fence()
        try:
            out = run_pg("pg_rewind", "-D", str(node.datadir), f"--source-server={primary.dsn}",
                         timeout=max(5, deadline - time.monotonic()))
        except LabError as exc:
            return RejoinResult(False, f"pg_rewind of {old} failed: {exc.message}")
        output = (out.stdout + out.stderr).strip()
        divergence = rewind_verdict(output, pgsql.checkpoint_timeline(primary), pgsql.current_timeline(primary))
        timeline.mark(Mark.REWOUND, f"pg_rewind of {old} from {primary.name}: {_rewind_summary(output)}")
        node.make_standby(primary)
        try:
            node.start(timeout=max(1, deadline - time.monotonic()))
        except LabError as exc:
            return RejoinResult(False, f"{old} does not start as a standby: {exc.message}", divergence, output)
        try:
            if not self.policy.strict_sync:
                pgsql.set_sync_names(primary, "*")
            # A suspected divergence gets a short look only: a diverged standby never becomes steady.
            wait = max(1, deadline - time.monotonic())
            pgsql.wait_rejoined(primary, node, old, min(wait, 8) if divergence else wait)
        except FailoverFailed as exc:
            forked = "forked off" in node.log_tail(50)
            why = " (its log says the new timeline forked off before its own end of WAL)" if forked else ""
            return RejoinResult(False, f"{exc.message}{why}", divergence, output)
        timeline.mark(Mark.BACK_IN_SYNC, f"{old} streams to {primary.name} as its synchronous standby")
        if divergence:
            return RejoinResult(False, divergence, divergence, output)
        return RejoinResult(True, f"{old} rewound and back as the synchronous standby of {primary.name}",
                            None, output)

    def heal(self, timeline: Timeline) -> None:
        cut, self._cut = self._cut, None
        isolation.lift(cut, timeline)

    def close(self) -> None:
        try:
            cut, self._cut = self._cut, None
            isolation.lift(cut)
        finally:
            self.lab.destroy()


def _rewind_summary(output: str) -> str:
    for key in ("no rewind required", "servers diverged", "Done!"):
        for line in output.splitlines():
            if key in line:
                return line.strip()
    return output.splitlines()[-1].strip() if output else "no output"


def _safe_replicas(node: PgNode) -> list[pgsql.ReplicaState]:
    try:
        return pgsql.replicas(node)
    except psycopg.Error:
        return []


def _with_replica(member: Member, rows: list[pgsql.ReplicaState]) -> Member:
    row = next((r for r in rows if r.application_name == member.name), None)
    if member.role is not Role.STANDBY or row is None:
        return member
    return Member(member.name, member.port, member.role, member.pid, member.timeline, row.sync_state,
                  row.replay_lag_bytes, f"{row.state}, {row.sync_state}")
