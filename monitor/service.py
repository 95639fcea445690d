"""`erpops monitor run`: sample, evaluate, notify, once per interval, each tick returning its reasons.

Sources return samples; the store keeps them; every rule is evaluated; the alerts go to a sink (the
embedded dispatcher, or an existing Alertmanager); what is due is queued on the delivery workers,
which send from their own threads, so a slow receiver never delays the next evaluation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from monitor.alert import Alert
from monitor.changes import Change, ChangeKind, ChangeTracker, alert_changes
from monitor.clock import Clock, SystemClock
from monitor.delivery import DeliveryWorker
from monitor.dispatcher import Dispatcher
from monitor.engine import RuleEvaluation, RuleRunner
from monitor.payload import api_v2_alerts
from monitor.query import ranges
from monitor.rules import Rule
from monitor.tsdb import Sample, SeriesStore

Source = Callable[[], list[Sample]]
EventSource = Callable[[float], list[Alert]]


class Sink(Protocol):
    def put(self, alerts: Iterable[Alert], now: float) -> None: ...

    def due(self, now: float) -> list[tuple[str, Any, str]]:
        """(key, body, reason) of what to send now."""
        ...

    def next_due(self) -> float | None:
        """When something may next become due between evaluations (None: only at evaluations)."""
        ...


class EmbeddedSink:
    """The embedded Alertmanager: grouping, silences and inhibition here, webhook bodies out."""

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher

    def put(self, alerts: Iterable[Alert], now: float) -> None:
        self.dispatcher.put(alerts, now)

    def due(self, now: float) -> list[tuple[str, Any, str]]:
        flush = self.dispatcher.flush(now)
        return [(n.group_key, n.body, n.reason) for n in flush.notifications]

    def next_due(self) -> float | None:
        return self.dispatcher.next_flush()


class AlertmanagerSink:
    """Hands every current alert to an Alertmanager each tick, as Prometheus does."""

    def __init__(self, valid_for: float = 240.0) -> None:
        self.valid_for = valid_for
        self.alerts: dict[str, Alert] = {}

    def put(self, alerts: Iterable[Alert], now: float) -> None:
        self.alerts = {a.fp: a for a in alerts}

    def due(self, now: float) -> list[tuple[str, Any, str]]:
        if not self.alerts:
            return []
        body = api_v2_alerts(list(self.alerts.values()), now, self.valid_for)
        return [("alerts", body, f"hand {len(body)} alerts to Alertmanager")]

    def next_due(self) -> float | None:
        return None


@dataclass(frozen=True)
class TickResult:
    at: float
    evaluations: list[RuleEvaluation]
    sent: list[str]
    source_errors: list[str]
    seconds: float
    changes: list[Change] = field(default_factory=list)

    @property
    def reason(self) -> str:
        firing = [e.rule for e in self.evaluations if e.state == "firing"]
        parts = [f"{len(self.evaluations)} rules, {len(firing)} firing"]
        if self.sent:
            parts.append("; ".join(self.sent))
        parts += self.source_errors
        return "; ".join(parts)


@dataclass
class Monitor:
    rules: list[Rule]
    sink: Sink
    workers: list[DeliveryWorker] = field(default_factory=list)
    sources: dict[str, Source] = field(default_factory=dict)
    events: EventSource | None = None
    clock: Clock = field(default_factory=SystemClock)
    store: SeriesStore = field(default_factory=SeriesStore)
    api_url: str = ""
    latest: list[Sample] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.store.series and not self.store.retention_by_name:
            # keep each metric only as long as a rule's range needs it (1 Hz x 6 h x every series is GBs)
            self.store = SeriesStore(by_name=ranges([r.expr for r in self.rules]))
        self.runners = [RuleRunner(r, self.api_url) for r in self.rules]
        self.evaluations: list[RuleEvaluation] = []
        self.tracker = ChangeTracker(frozenset(r.alert for r in self.rules if r.no_data == "alerting"))

    def tick(self) -> TickResult:
        """Sample every source, evaluate every rule, queue what is due; never waits on a receiver."""
        started = time.perf_counter()
        t = self.clock.now()
        errors: dict[str, str] = {}
        latest: list[Sample] = []
        for name, source in self.sources.items():
            try:
                samples = source()
            except Exception as exc:
                errors[name] = f"source {name} failed: {exc}"
                samples = []
            self.store.ingest(samples, t, source=name)
            latest.extend(samples)
        self.latest = latest
        self.evaluations = [r.evaluate(self.store, t) for r in self.runners]
        alerts = [a for r in self.runners for a in r.alerts(t)]
        if self.events is not None:
            try:
                alerts += self.events(t)
            except Exception as exc:
                errors["alert events"] = f"alert events failed: {exc}"
        self.sink.put(alerts, t)
        sent = self.flush(t)
        changes = [*self.tracker.sources(errors, t), *self.tracker.rules(self.evaluations, t),
                   *alert_changes(self.evaluations, t), *(Change(t, ChangeKind.SENT, "notify", s) for s in sent)]
        return TickResult(t, self.evaluations, sent, list(errors.values()), time.perf_counter() - started, changes)

    def flush(self, t: float) -> list[str]:
        """Queue what the sink says is due at `t` on every worker; the reasons."""
        sent = []
        for key, body, reason in self.sink.due(t):
            for worker in self.workers:
                worker.submit(key, body)
            sent.append(reason)
        return sent

    def run(self, interval: float, duration: float | None = None, max_ticks: int | None = None,
            on_tick: Callable[[TickResult], None] | None = None, stop: threading.Event | None = None) -> int:
        """Tick every `interval` s until `duration`, `max_ticks` or `stop`; between ticks, flush groups
        the moment their `group_wait`/`group_interval` ends rather than at the next tick. Returns the ticks."""
        stop = stop or threading.Event()
        ticks = 0
        start = time.monotonic()
        while not stop.is_set() and (max_ticks is None or ticks < max_ticks) and (
                duration is None or time.monotonic() - start < duration):
            result = self.tick()
            ticks += 1
            if on_tick is not None:
                on_tick(result)
            self._wait(start + ticks * interval, stop)
        return ticks

    def _wait(self, next_at: float, stop: threading.Event) -> None:
        while not stop.is_set():
            left = next_at - time.monotonic()
            if left <= 0:
                return
            due = self.sink.next_due()
            if due is not None and due - self.clock.now() <= 0:
                self.flush(self.clock.now())
                due = self.sink.next_due()
            delay = left if due is None else min(left, max(0.0, due - self.clock.now()))
            stop.wait(delay)

    def stop(self, drain: float = 0.0) -> None:
        """Stop the delivery workers, first letting them send what is queued for up to `drain` seconds."""
        for worker in self.workers:
            if drain:
                worker.drain(drain)
            worker.stop()

    def run_until_done(self, interval: float, duration: float | None = None, max_ticks: int | None = None,
                       on_change: Callable[[Change], None] | None = None, drain: float = 5.0) -> int:
        """`run`, reporting each change; however it ends (done, Ctrl-C, SIGTERM), queued notifications get
        `drain` seconds and the workers stop."""
        def report(result: TickResult) -> None:
            if on_change is not None:
                for change in result.changes:
                    on_change(change)

        try:
            return self.run(interval, duration, max_ticks, report)
        finally:
            self.stop(drain)


class MonitorCollector(Collector):
    """Exposes the latest samples of every source and the state of every rule on `/metrics`."""

    def __init__(self, monitor: Monitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        families: dict[str, GaugeMetricFamily] = {}
        for sample in self.monitor.latest:
            labels = {k: v for k, v in sample.labels.items() if k != "__name__"}
            name = sample.labels["__name__"]
            fam = families.get(name)
            if fam is None:
                fam = families[name] = GaugeMetricFamily(name, name.replace("_", " "), labels=sorted(labels))
            fam.add_metric([labels[k] for k in sorted(labels)], sample.value)
        yield from families.values()
        state = GaugeMetricFamily("erpops_monitor_rule_state", "Rule state: 0 inactive 1 pending 2 firing "
                                  "3 resolved 4 nodata 5 error.", labels=["alertname"])
        for ev in self.monitor.evaluations:
            state.add_metric([ev.rule], ev.state.code)
        yield state
