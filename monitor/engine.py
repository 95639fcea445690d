"""The rule engine: one evaluation of a rule moves each alert instance and says why.

    inactive --cond--> pending --cond for `for`--> firing --no cond past `keep_firing_for`--> resolved
        ^                 |  (no cond: back to inactive, never notified)           |
        +-----------------+----------------------------------------------------------+ (cond: pending again)

A firing instance is held to `resolve_threshold` when the rule has one (hysteresis). When the query
returns nothing the rule is in `nodata`, when it fails in `error`: instances then keep their state,
so a broken probe never resolves a real problem (`no_data: ok` resolves them, as Prometheus does).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from monitor.alert import Alert
from monitor.links import resolve_runbook, rule_url, runbook_url
from monitor.query import query
from monitor.rules import Rule, render
from monitor.tsdb import SeriesStore
from monitor.types import AlertState, LabelKey, Labels

RESOLVED_RETENTION = 900.0
"""Resolved instances are re-sent for this long (Prometheus: 15 minutes), then forgotten."""


@dataclass
class Instance:
    labels: Labels
    state: AlertState = AlertState.INACTIVE
    value: float | None = None
    active_at: float = 0.0
    fired_at: float = 0.0
    last_true_at: float = 0.0
    resolved_at: float | None = None


@dataclass(frozen=True)
class InstanceResult:
    labels: Labels
    state: AlertState
    previous: AlertState
    value: float | None
    reason: str

    @property
    def changed(self) -> bool:
        return self.state != self.previous


@dataclass(frozen=True)
class RuleEvaluation:
    """The outcome of one evaluation of one rule, with the sentence that explains it."""

    rule: str
    state: AlertState
    at: float
    reason: str
    instances: tuple[InstanceResult, ...] = ()

    @property
    def changes(self) -> list[InstanceResult]:
        return [i for i in self.instances if i.changed]


@dataclass
class RuleRunner:
    """Holds the instances of one rule between evaluations."""

    rule: Rule
    api_url: str = ""
    instances: dict[LabelKey, Instance] = field(default_factory=dict)
    health: AlertState = AlertState.INACTIVE
    health_since: float = 0.0
    resolved_meta: Alert | None = None

    def evaluate(self, store: SeriesStore, t: float) -> RuleEvaluation:
        """Query the store at `t` and step every instance of the rule."""
        try:
            vector = query(store, self.rule.expr, t)
        except Exception as exc:
            return self._hold(AlertState.ERROR, t, f"{self.rule.alert}: query failed: {exc}")
        return self.step(vector, t)

    def step(self, vector: dict[LabelKey, float], t: float) -> RuleEvaluation:
        """Step the instances with the values of one evaluation (the query's instant vector)."""
        if not vector and self.rule.no_data != "ok":
            return self._hold(AlertState.NODATA, t, f"{self.rule.alert}: the query returned no series")
        self._set_health(AlertState.INACTIVE, t)
        results: list[InstanceResult] = []
        seen: set[LabelKey] = set()
        for key, value in vector.items():
            labels = self._labels(key)
            ikey = tuple(sorted(labels.items()))
            seen.add(ikey)
            inst = self.instances.setdefault(ikey, Instance(labels))
            results.append(self._advance(inst, value, t))
        for ikey, inst in list(self.instances.items()):
            if ikey not in seen:
                results.append(self._advance(inst, None, t))
                if inst.state == AlertState.INACTIVE:
                    del self.instances[ikey]
        firing = sum(1 for i in self.instances.values() if i.state == AlertState.FIRING)
        changed = [r for r in results if r.changed]
        reason = f"{self.rule.alert}: {len(vector)} series, {firing} firing" + (
            "; " + "; ".join(r.reason for r in changed[:3]) if changed else ""
        )
        state = AlertState.FIRING if firing else (
            AlertState.PENDING if any(i.state == AlertState.PENDING for i in self.instances.values())
            else AlertState.INACTIVE)
        return RuleEvaluation(self.rule.alert, state, t, reason, tuple(results))

    def _labels(self, key: LabelKey) -> Labels:
        labels = {k: v for k, v in key if k != "__name__"}
        labels.update(self.rule.labels)
        labels["alertname"] = self.rule.alert
        return labels

    def _advance(self, inst: Instance, value: float | None, t: float) -> InstanceResult:
        prev = inst.state
        inst.value = value
        rule = self.rule
        firing = prev == AlertState.FIRING
        cond = value is not None and not math.isnan(value) and rule.holds(value, firing)
        shown = "no value" if value is None else f"{value:g}"
        if cond:
            inst.last_true_at = t
        if cond and prev in (AlertState.INACTIVE, AlertState.RESOLVED):
            inst.active_at, inst.resolved_at = t, None
            if rule.for_ <= 0:
                return self._fire(inst, prev, t, f"{shown} {rule.op} {rule.threshold:g}, no `for`")
            inst.state = AlertState.PENDING
            return self._result(inst, prev, f"{shown} {rule.op} {rule.threshold:g}, pending for {rule.for_:g}s")
        if cond and prev == AlertState.PENDING:
            if t - inst.active_at >= rule.for_:
                return self._fire(inst, prev, t, f"{shown} held {rule.op} {rule.threshold:g} for {rule.for_:g}s")
            return self._result(inst, prev, f"pending {t - inst.active_at:g}s of {rule.for_:g}s")
        if cond:
            return self._result(inst, prev, f"{shown} still {rule.op} {self._bound(firing):g}")
        if prev == AlertState.PENDING:
            inst.state = AlertState.INACTIVE
            return self._result(inst, prev, f"{shown} cleared while pending; nothing was sent")
        if prev == AlertState.FIRING:
            if rule.keep_firing_for and t - inst.last_true_at < rule.keep_firing_for:
                return self._result(inst, prev, f"{shown} cleared, kept firing for {rule.keep_firing_for:g}s")
            inst.state, inst.resolved_at = AlertState.RESOLVED, t
            return self._result(inst, prev, f"{shown} no longer {rule.op} {self._bound(True):g}: resolved")
        if prev == AlertState.RESOLVED and inst.resolved_at is not None:
            if t - inst.resolved_at >= RESOLVED_RETENTION:
                inst.state = AlertState.INACTIVE
                return self._result(inst, prev, "resolved long enough ago; forgotten")
            return self._result(inst, prev, "still resolved")
        inst.state = AlertState.INACTIVE
        return self._result(inst, prev, f"{shown} not {rule.op} {rule.threshold:g}")

    def _bound(self, firing: bool) -> float:
        r = self.rule
        return r.resolve_threshold if firing and r.resolve_threshold is not None else r.threshold

    def _fire(self, inst: Instance, prev: AlertState, t: float, why: str) -> InstanceResult:
        inst.state, inst.fired_at = AlertState.FIRING, t
        return self._result(inst, prev, why + ": firing")

    def _result(self, inst: Instance, prev: AlertState, why: str) -> InstanceResult:
        return InstanceResult(dict(inst.labels), inst.state, prev, inst.value, why)

    def _hold(self, state: AlertState, t: float, reason: str) -> RuleEvaluation:
        self._set_health(state, t)
        held = tuple(
            InstanceResult(dict(i.labels), i.state, i.state, i.value, f"held {i.state} while {state}")
            for i in self.instances.values()
        )
        return RuleEvaluation(self.rule.alert, state, t, reason + "; instances keep their state", held)

    def _set_health(self, state: AlertState, t: float) -> None:
        if state == self.health:
            return
        meta = self._meta_alert(t)
        if meta is not None:
            self.resolved_meta = Alert(meta.labels, meta.annotations, meta.starts_at, t, meta.generator_url)
        self.health, self.health_since = state, t

    def alerts(self, t: float) -> list[Alert]:
        """Alerts to hand to the notifier now: every firing instance and recently resolved ones."""
        out: list[Alert] = []
        for inst in self.instances.values():
            if inst.state == AlertState.FIRING:
                out.append(self._alert(inst, None))
            elif inst.state == AlertState.RESOLVED and inst.resolved_at is not None:
                out.append(self._alert(inst, inst.resolved_at))
        meta = self._meta_alert(t)
        if meta is not None:
            out.append(meta)
        gone = self.resolved_meta
        recent = gone is not None and gone.ends_at is not None and t - gone.ends_at < RESOLVED_RETENTION
        if gone is not None and recent and (meta is None or meta.fp != gone.fp):
            out.append(gone)
        return out

    def _alert(self, inst: Instance, ends_at: float | None) -> Alert:
        annotations = {k: render(v, inst.labels, inst.value) for k, v in self.rule.annotations.items()}
        annotations["runbook_url"] = resolve_runbook(self.api_url, annotations["runbook_url"])
        return Alert(dict(inst.labels), annotations, inst.fired_at, ends_at, self.generator_url())

    def _meta_alert(self, t: float) -> Alert | None:
        """MonitorRuleError while the rule errors, MonitorNoData while it has no data (if asked)."""
        if self.health == AlertState.ERROR:
            name = "MonitorRuleError"
        elif self.health == AlertState.NODATA and self.rule.no_data == "alerting":
            name = "MonitorNoData"
        else:
            return None
        labels = {"alertname": name, "rule": self.rule.alert, "severity": "warning"}
        annotations = {
            "summary": f"rule {self.rule.alert} is in state {self.health}",
            "runbook_url": runbook_url(self.api_url, name),
        }
        return Alert(labels, annotations, self.health_since, None, self.generator_url())

    def generator_url(self) -> str:
        """The API page of this rule (expression, threshold, runbook), as `generatorURL`."""
        return rule_url(self.api_url, self.rule.alert)


def evaluate_all(runners: Iterable[RuleRunner], store: SeriesStore, t: float) -> list[RuleEvaluation]:
    return [r.evaluate(store, t) for r in runners]
