"""The drill runner: a fault under live load, a timeline, RPO counted row by row, the old primary rejoined.

A drill injects its fault only once every client has had a write acknowledged (or fails without one). It
fails (and the CLI exits non-zero and raises an alert) when any acknowledged commit is missing on
the new primary, the old primary accepts a write after fencing, the old primary does not rejoin as a
synchronous standby, a divergence was detected, or the business RTO misses its target.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import psycopg

from failover.engines.base import HaEngine, RejoinResult
from failover.timeline import Event, Timeline, client_marks, missing_marks, summarize
from failover.types import FailoverFailed, Fault, LabError, Mark, Outcome, Role
from failover.writer import Attempt, Writer

EXPECTED_MARKS = (
    Mark.FAULT, Mark.DETECTION, Mark.DECISION, Mark.FENCING, Mark.PROMOTION, Mark.FIRST_WRITE,
    Mark.FIRST_CLIENT_BACK, Mark.LAST_CLIENT_BACK, Mark.BUSINESS_RTO, Mark.REWOUND, Mark.BACK_IN_SYNC,
)


class Load(Protocol):
    """What the drill needs from a load generator (the built-in writer, or a fake in unit tests)."""

    def prepare(self) -> None: ...

    def start(self) -> None: ...

    def stop(self, timeout: float = 10) -> list[Attempt]: ...


LoadFactory = Callable[[str, str, int], Load]


def builtin_writer(conninfo: str, run: str, clients: int) -> Load:
    return Writer(conninfo, run, clients)


@dataclass(frozen=True)
class DrillConfig:
    """One drill's fault, load and targets."""

    fault: Fault = Fault.KILL
    clients: int = 4
    warmup: float = 1.0  # of load after every client has had a write acknowledged
    settle: float = 1.0
    load_timeout: float = 60.0  # for every client's first acknowledged write; no fault without it
    recover_timeout: float = 60.0
    rejoin_timeout: float = 60.0
    rto_target: float = 10.0
    ballast_rows: int = 0  # rows written just before the fault, to leave dirty buffers on the standby
    erp_check: bool = False  # migrate + seed the ERP on the cluster, run `erpops check` on the new primary


@dataclass
class DrillResult:
    """Everything one drill measured and decided; `failures` lists why it failed, empty when it passed."""

    engine: str
    fault: str
    run: str
    started_at: str
    old_primary: str = ""
    new_primary: str = ""
    seconds: dict[str, float] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    attempts: dict[str, int] = field(default_factory=dict)
    lost: list[tuple[int, int]] = field(default_factory=list)
    split_brain: str | None = None
    rejoin: RejoinResult | None = None
    divergence: str | None = None
    missing_marks: list[str] = field(default_factory=list)
    check: dict[str, Any] | None = None
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures

    @property
    def rpo(self) -> int:
        return len(self.lost)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(ok=self.ok, rpo=self.rpo, lost=[list(k) for k in self.lost])
        return data


def run_drill(engine: HaEngine, config: DrillConfig, load_factory: LoadFactory = builtin_writer,
              on_mark: Callable[[Event], None] | None = None) -> DrillResult:
    """Run one drill on `engine` under load and return its result; it never raises for a failed drill.

    `on_mark` is told of every timeline mark as it happens (the CLI shows them as progress on stderr).
    The load is stopped and an isolation lifted in `finally`, also when SIGTERM or Ctrl-C unwinds the drill.
    """
    run = uuid.uuid4().hex[:12]
    result = DrillResult(engine.name, str(config.fault), run, dt.datetime.now(dt.UTC).isoformat())
    timeline = Timeline(listener=on_mark)
    if config.erp_check:
        prepare_erp(primary_url(engine))
    load = load_factory(engine.client_conninfo(), run, config.clients)
    attempts: list[Attempt] = []
    try:
        load.prepare()
        load.start()
        _wait_load_flowing(load, config)
        time.sleep(config.warmup)
        if config.ballast_rows:
            _write_ballast(engine.client_conninfo(), config.ballast_rows)
        result.old_primary = engine.inject(config.fault, timeline)
        result.new_primary = engine.recover(config.fault, result.old_primary, timeline, config.recover_timeout)
        _wait_clients_back(load, engine, result.new_primary, timeline, config)
    except (FailoverFailed, LabError) as exc:
        result.failures.append(f"failover: {exc.message}")
    finally:
        try:
            engine.heal(timeline)  # an isolation is always lifted, whatever happened above
        except FailoverFailed as exc:
            result.failures.append(f"heal: {exc.message}")
        finally:
            attempts = load.stop()
    if result.new_primary:
        _verify(engine, config, result, timeline, attempts, load)
    _finish(result, timeline, attempts)
    return result


def _wait_load_flowing(load: Load, config: DrillConfig) -> None:
    """Return once every client has had a write acknowledged: a fault before that would test no load.

    A load started on a busy machine (the o2c API load starts a server first) may take seconds to ack.
    """
    attempts_of: Callable[[], Sequence[Attempt]] | None = getattr(load, "snapshot", None)
    if attempts_of is None:
        return
    deadline = time.monotonic() + config.load_timeout
    while True:
        acked = {a.client for a in attempts_of() if a.outcome is Outcome.ACKED}
        if len(acked) >= config.clients:
            return
        if time.monotonic() >= deadline:
            raise FailoverFailed(f"load: {len(acked)} of {config.clients} clients had a write acknowledged within "
                                 f"{config.load_timeout:g} s; no fault was injected")
        time.sleep(0.05)


def _wait_clients_back(load: Load, engine: HaEngine, new: str, timeline: Timeline, config: DrillConfig) -> None:
    """Keep the load running until every client has an ack from the new primary (or `settle` runs out)."""
    port = _port_of(engine, new)
    deadline = time.monotonic() + config.settle + config.recover_timeout
    fault = timeline.at(Mark.FAULT) or 0.0
    attempts_of: Callable[[], Sequence[Attempt]] = getattr(load, "snapshot", list)
    while time.monotonic() < deadline:
        back = {a.client for a in attempts_of()
                if a.outcome is Outcome.ACKED and a.port in (port, None) and a.ended >= fault}
        if len(back) >= config.clients:
            break
        time.sleep(0.05)
    time.sleep(config.settle)


def _verify(engine: HaEngine, config: DrillConfig, result: DrillResult, timeline: Timeline,
            attempts: list[Attempt], load: Load) -> None:
    port = _port_of(engine, result.new_primary)
    if port is not None:
        client_marks(timeline, attempts, port, config.clients)
    result.split_brain = engine.split_brain(result.old_primary)
    if result.split_brain:
        result.failures.append(f"split brain: {result.split_brain}")
    # A load that knows its own writes (the o2c API load: idempotency keys, order ids) counts them itself.
    own: Callable[[str], set[tuple[int, int]]] | None = getattr(load, "committed", None)
    committed = own(primary_url(engine)) if own is not None else engine.committed(result.run)
    acked = {(a.client, a.seq) for a in attempts if a.outcome is Outcome.ACKED}
    result.lost = sorted(acked - committed)
    doubt = {(a.client, a.seq) for a in attempts if a.outcome is Outcome.IN_DOUBT}
    result.attempts["in_doubt_committed"] = len(doubt & committed)
    if result.lost:
        result.failures.append(f"RPO: {len(result.lost)} acknowledged commits missing on {result.new_primary}")
    result.rejoin = engine.rejoin(result.old_primary, timeline, config.rejoin_timeout)
    result.divergence = result.rejoin.divergence
    if not result.rejoin.ok:
        result.failures.append(f"rejoin: {result.rejoin.reason}")
    if config.erp_check:
        result.check = erp_check(primary_url(engine))
        if not result.check["ok"]:
            result.failures.append(f"erpops check on {result.new_primary}: {result.check['violations']} violations")
    rto = timeline.since_fault().get(str(Mark.BUSINESS_RTO))
    if rto is None:
        result.failures.append("RTO: no client had an order acknowledged by the new primary")
    elif rto > config.rto_target:
        result.failures.append(f"RTO: business RTO {rto:.2f} s is over the {config.rto_target:.1f} s target")


def _finish(result: DrillResult, timeline: Timeline, attempts: list[Attempt]) -> None:
    fault = timeline.at(Mark.FAULT)
    old_port = None
    for attempt in attempts:
        result.attempts[str(attempt.outcome)] = result.attempts.get(str(attempt.outcome), 0) + 1
    if fault is not None and result.new_primary:
        before = [a for a in attempts if a.outcome is Outcome.ACKED and a.ended < fault]
        result.attempts["acked_before_fault"] = len(before)
        old_port = next(iter({a.port for a in before}), None)
        late = [a for a in attempts
                if a.outcome is Outcome.ACKED and a.ended >= fault and a.port == old_port and old_port is not None]
        result.attempts["acked_by_old_after_fault"] = len(late)
        if result.fault == str(Fault.ISOLATE):
            _judge_isolation(result, fault, late)
    result.attempts.setdefault("acked", 0)
    result.attempts.setdefault("error", 0)
    result.attempts.setdefault("in_doubt", 0)
    result.seconds = timeline.since_fault()
    promoted, back = result.seconds.get(str(Mark.PROMOTION)), result.seconds.get(str(Mark.BACK_IN_SYNC))
    if promoted is not None:
        end = back if back is not None else max(result.seconds.values())
        result.seconds["without_sync_standby"] = round(end - promoted, 3)
    lifted = result.seconds.get("isolation_lifted")
    if back is not None and lifted is not None:
        result.seconds["lifted_to_sync"] = round(back - lifted, 3)  # the target: within 30 s of reachable
    rewound = result.seconds.get(str(Mark.REWOUND))
    if back is not None and rewound is not None:
        result.seconds["rewind_to_sync"] = round(back - rewound, 3)
    result.events = sorted(timeline.events, key=lambda e: e.at)
    result.missing_marks = missing_marks(timeline, EXPECTED_MARKS)


# A reply the old primary sent just before the cut may sit in the client's socket until its thread runs again
# (the GIL, a busy core): it was acknowledged before the fault, read after. Nothing sent after the cut arrives.
ISOLATION_GRACE = 0.25


def _judge_isolation(result: DrillResult, fault: float, late: Sequence[Attempt]) -> None:
    """Fail the drill if the isolated node acknowledged a request sent after the cut (or long after it)."""
    in_flight = [a for a in late if a.started < fault and a.ended - fault <= ISOLATION_GRACE]
    result.attempts["acked_in_flight_at_cut"] = len(in_flight)
    acked_by_isolated = len(late) - len(in_flight)
    result.attempts["acked_by_isolated"] = acked_by_isolated
    if acked_by_isolated:
        result.failures.append(f"isolation: {result.old_primary} acknowledged {acked_by_isolated} commits "
                               "sent after it was cut off")


def _port_of(engine: HaEngine, name: str) -> int | None:
    return next((m.port for m in engine.members() if m.name == name and m.role is Role.PRIMARY), None)


def _write_ballast(conninfo: str, rows: int) -> None:
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS failover_ballast (id bigint, pad text)")
        conn.execute("INSERT INTO failover_ballast SELECT g, repeat('x', 200) FROM generate_series(1, %s) g",
                     (rows,))


METRICS = ("detection", "decision", "fencing", "promotion", "first_write_accepted", "first_client_back",
           "last_client_back", "business_rto", "old_primary_rewound", "back_in_sync", "without_sync_standby",
           "rewind_to_sync")


def summarize_drills(results: Sequence[DrillResult]) -> dict[str, Any]:
    """Medians and p95 of every timeline point over repeated drills, and the totals that must be zero."""
    return {
        "drills": len(results),
        "passed": sum(1 for r in results if r.ok),
        "lost_acknowledged": sum(r.rpo for r in results),
        "in_doubt": sum(r.attempts.get("in_doubt", 0) for r in results),
        "acked": sum(r.attempts.get("acked", 0) for r in results),
        "seconds": {m: summarize([r.seconds[m] for r in results if m in r.seconds]) for m in METRICS},
    }


def alert_failures(target: Any, results: Sequence[DrillResult]) -> int:
    """Raise one `FailoverDrillFailed` alert event per failed drill on `target` (an erpcore engine)."""
    from erpcore.alerts import raise_alert

    failed = [r for r in results if not r.ok]
    for r in failed:
        raise_alert(target, "FailoverDrillFailed", f"{r.fault} drill on {r.engine} failed: {'; '.join(r.failures)}",
                    "critical", {"engine": r.engine, "fault": r.fault, "run": r.run})
    return len(failed)


def primary_url(engine: HaEngine) -> str:
    # One host, not the multi-host URL: alembic's ini-style config chokes on its %-escapes.
    primary = engine.primary()
    if primary is None:
        raise FailoverFailed("no primary to run the ERP on")
    return f"postgresql+psycopg://postgres@127.0.0.1:{primary.port}/postgres"


def sqlalchemy_url(conninfo: str) -> str:
    """The SQLAlchemy URL of a libpq multi-host string (hosts and ports paired in order)."""
    parts = dict(item.split("=", 1) for item in conninfo.split())
    hosts, ports = parts.pop("host").split(","), parts.pop("port").split(",")
    user, dbname = parts.pop("user", "postgres"), parts.pop("dbname", "postgres")
    query = "&".join([*(f"host={h}:{p}" for h, p in zip(hosts, ports, strict=True)),
                      *(f"{k}={v}" for k, v in parts.items())])
    return f"postgresql+psycopg://{user}@/{dbname}?{query}"


def prepare_erp(url: str, days: int = 20, orders_per_day: int = 5) -> None:
    """Migrate the ERP schema onto the cluster and seed a short history once (idempotent)."""
    from sqlalchemy import func, select

    from erpcore.db import make_engine
    from erpcore.migrate import upgrade
    from erpcore.models import SalesOrder
    from erpcore.seed import seed

    target = make_engine(url)
    try:
        upgrade(target)
        with target.connect() as conn:
            seeded = conn.execute(select(func.count()).select_from(SalesOrder)).scalar_one()
        if not seeded:
            seed(target, 1, orders_per_day, seed=7, days=days)
    finally:
        target.dispose()


def erp_check(url: str) -> dict[str, Any]:
    """`erpops check` on whichever node accepts writes: every business invariant must hold there."""
    from erpcore.check import run_check
    from erpcore.db import make_engine

    target = make_engine(url)
    try:
        report = run_check(target)
    finally:
        target.dispose()
    return {"ok": report.ok, "checked": len(report.checked), "violations": len(report.violations),
            "failed": [v.invariant for v in report.violations]}
