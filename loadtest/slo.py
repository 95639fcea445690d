"""SLO gates: thresholds in YAML with k6-like expressions, evaluated against a run (and a stored baseline).

    thresholds:
      global:                              # every HTTP request of the run
        - p(95) < 300                      # milliseconds (`300ms` and `1s` work too)
        - rate(errors) < 0.01              # failed requests / requests (`1%` works too)
        - rate(checks) > 0.99              # passed content checks / checks
        - p95 within +15% of baseline      # against `baseline:` below
      POST /sales-orders/[id]/approve:     # one endpoint; `/sales-orders` alone means every method
        - threshold: p(99) < 800
          abort_on_fail: true              # stop the run as soon as it is breached
      order_to_cash:                       # one task (a whole chain)
        - rps > 5                          # off unless written: shared runners vary
    baseline: runs/main/verdict.json       # a previous run's verdict, relative to this file

Every result carries the sentence that explains it.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import yaml

from erpcore.exceptions import ConfigError
from loadtest.metrics import percent_of

OPERATORS: dict[str, Callable[[float, float], bool]] = {
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
}
METRIC = r"p\(\s*\d+(?:\.\d+)?\s*\)|avg|med|max|min|rps|count|rate\(\s*(?:errors|checks)\s*\)"
ABSOLUTE = re.compile(rf"^\s*(?P<metric>{METRIC})\s*(?P<op><=|>=|==|<|>)\s*(?P<value>\d+(?:\.\d+)?)\s*"
                      r"(?P<unit>ms|s|%)?\s*$")
RELATIVE = re.compile(r"^\s*(?P<metric>p\d+(?:\.\d+)?|p\(\s*\d+(?:\.\d+)?\s*\)|avg|med|max|rps|rate\(errors\))\s+"
                      r"within\s+(?P<sign>[+-])(?P<pct>\d+(?:\.\d+)?)\s*%\s+of\s+baseline\s*$")


class Observer(Protocol):
    def observe(self, selector: str, metric: str) -> float | None: ...


@dataclass(frozen=True)
class Threshold:
    """One gate: `metric op limit` over `selector`, or, with `tolerance`, `metric` within a margin of the baseline."""

    selector: str
    expression: str
    metric: str
    op: str
    limit: float
    abort_on_fail: bool = False
    tolerance: float | None = None  # +0.15 = at most 15 % above the baseline, -0.10 = at most 10 % below


@dataclass(frozen=True)
class Slo:
    thresholds: tuple[Threshold, ...]
    baseline: Path | None = None

    @property
    def selectors(self) -> list[str]:
        return list(dict.fromkeys(t.selector for t in self.thresholds))

    @property
    def relative(self) -> bool:
        return any(t.tolerance is not None for t in self.thresholds)


@dataclass(frozen=True)
class ThresholdResult:
    selector: str
    expression: str
    ok: bool
    observed: float | None
    limit: float | None
    abort_on_fail: bool
    reason: str


def _metric_name(raw: str) -> str:
    text = re.sub(r"\s+", "", raw)
    if re.fullmatch(r"p\d+(?:\.\d+)?", text):
        text = f"p({text[1:]})"
    if text.startswith("p("):
        text = f"p({float(text[2:-1]):g})"
        percent_of(text)
    return text


def parse_threshold(selector: str, expression: str, abort_on_fail: bool = False) -> Threshold:
    """Parse one expression (`p(95) < 300`, `rate(errors) < 1%`, `p95 within +15% of baseline`)."""
    try:
        if m := RELATIVE.match(expression):
            sign = 1 if m["sign"] == "+" else -1
            metric = _metric_name(m["metric"])
            op = ">=" if metric == "rps" else "<="
            return Threshold(selector, expression.strip(), metric, op, 0.0, abort_on_fail,
                             sign * float(m["pct"]) / 100)
        if m := ABSOLUTE.match(expression):
            metric, unit, value = _metric_name(m["metric"]), m["unit"], float(m["value"])
            rate = metric.startswith("rate(")
            if unit == "%" and rate:
                value /= 100
            elif unit == "s" and not rate and metric not in ("rps", "count"):
                value *= 1000
            elif (unit is not None and (unit == "%") != rate) or (unit and metric in ("rps", "count")):
                raise ValueError(f"unit {unit!r} does not fit {metric}")
            return Threshold(selector, expression.strip(), metric, m["op"], value, abort_on_fail)
    except ValueError as exc:
        raise ConfigError(f"{expression!r}: {exc}") from exc
    raise ConfigError(f"cannot read {expression!r}; write e.g. `p(95) < 300`, `rate(errors) < 0.01`, "
                      "`rate(checks) > 0.99`, `rps > 10` or `p95 within +15% of baseline`")


def _threshold(selector: str, key: str, item: Any) -> Threshold:
    """One list item under `thresholds.<selector>`; errors name its key (`thresholds.global[1]`)."""
    expression, abort = item, False
    if isinstance(item, Mapping):
        extra = sorted(set(item) - {"threshold", "abort_on_fail"})
        if extra:
            raise ConfigError(f"{key}.{extra[0]}: unknown key; a threshold takes `threshold` and `abort_on_fail`")
        abort = item.get("abort_on_fail", False)
        if not isinstance(abort, bool):
            raise ConfigError(f"{key}.abort_on_fail: {abort!r} is not true or false")
        expression, key = item.get("threshold"), f"{key}.threshold"
    if not isinstance(expression, str):
        raise ConfigError(f"{key}: {expression!r} is not a threshold; write a string such as `p(95) < 300` "
                          "or {threshold: ..., abort_on_fail: true}")
    try:
        return parse_threshold(selector, expression, abort)
    except ConfigError as exc:
        raise ConfigError(f"{key}: {exc.message}") from exc


def parse_slo(data: Any, base_dir: Path | None = None) -> Slo:
    """An SLO from its YAML document (already loaded); relative baseline paths resolve against `base_dir`.

    Every error names the key at fault, as a path: `thresholds`, `thresholds.global[1]`, `baseline`.
    """
    if not isinstance(data, Mapping):
        raise ConfigError("the SLO file is not a mapping; it needs a `thresholds:` key")
    unknown = sorted(str(k) for k in set(data) - {"thresholds", "baseline"})
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown key; an SLO file has `thresholds` and `baseline`")
    if not isinstance(data.get("thresholds"), Mapping) or not data["thresholds"]:
        raise ConfigError("thresholds: missing or empty; it maps a selector (`global`, an endpoint, a task) "
                          "to a list of expressions")
    thresholds = []
    for selector, items in data["thresholds"].items():
        listed = items if isinstance(items, list) else [items]
        if not listed:
            raise ConfigError(f"thresholds.{selector}: no expressions")
        for n, item in enumerate(listed):
            key = f"thresholds.{selector}[{n}]" if isinstance(items, list) else f"thresholds.{selector}"
            thresholds.append(_threshold(str(selector), key, item))
    baseline = data.get("baseline")
    if baseline is not None and not isinstance(baseline, str):
        raise ConfigError(f"baseline: {baseline!r} is not a path to a verdict.json")
    path = None if baseline is None else Path(baseline)
    if path is not None and not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    slo = Slo(tuple(thresholds), path)
    if slo.relative and path is None:
        raise ConfigError("baseline: missing; a `within ... of baseline` threshold needs "
                          "`baseline: path/to/verdict.json`")
    return slo


def load_slo(path: Path) -> Slo:
    """Read and parse an SLO YAML file; every error is one line that names the file and the key at fault."""
    try:
        data = yaml.safe_load(path.read_text())
    except OSError as exc:
        raise ConfigError(f"cannot read the SLO file {path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{path}: not YAML{where}: {problem}") from exc
    try:
        return parse_slo(data, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc.message}") from exc


def check_slo(path: Path) -> Slo:
    """`load_slo`, and for relative thresholds also read the baseline, as a run would before it starts."""
    slo = load_slo(path)
    if slo.relative and slo.baseline is not None:
        try:
            Baseline.load(slo.baseline)
        except ConfigError as exc:
            raise ConfigError(f"{path}: baseline: {exc.message}") from exc
    return slo


@dataclass(frozen=True)
class Baseline:
    """The metrics a previous run's verdict stored per selector."""

    metrics: Mapping[str, Mapping[str, float | None]]
    source: str = "baseline"

    @classmethod
    def load(cls, path: Path) -> Baseline:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ConfigError(f"cannot read the baseline {path}: {exc}") from exc
        if not isinstance(data, Mapping) or not isinstance(data.get("metrics"), Mapping):
            raise ConfigError(f"the baseline {path} is not a verdict.json of `erpops loadtest run`")
        return cls(data["metrics"], str(path))

    def observe(self, selector: str, metric: str) -> float | None:
        return self.metrics.get(selector, {}).get(metric)


def _show(metric: str, value: float) -> str:
    if metric.startswith("rate("):
        return f"{value:.2%}"
    if metric in ("rps", "count"):
        return f"{value:.2f}" if metric == "rps" else f"{value:.0f}"
    return f"{value:.0f} ms"


def evaluate_one(t: Threshold, run: Observer, baseline: Observer | None) -> ThresholdResult:
    """Whether `t` holds for `run`, and the sentence saying why."""
    where = "every request" if t.selector == "global" else t.selector
    observed = run.observe(t.selector, t.metric)

    def result(ok: bool, limit: float | None, reason: str) -> ThresholdResult:
        return ThresholdResult(t.selector, t.expression, ok, observed, limit, t.abort_on_fail, reason)

    if observed is None:
        return result(False, None, f"{t.metric} of {where}: nothing measured (no matching requests or checks)")
    limit = t.limit
    if t.tolerance is not None:
        base = None if baseline is None else baseline.observe(t.selector, t.metric)
        if base is None:
            return result(False, None, f"{t.metric} of {where}: the baseline has no value to compare with")
        limit = base * (1 + t.tolerance)
    ok = OPERATORS[t.op](observed, limit)
    verb = "met" if ok else "breached"
    against = "" if t.tolerance is None else f" (baseline {_show(t.metric, limit / (1 + t.tolerance))})"
    return result(ok, limit, f"{t.metric} of {where} was {_show(t.metric, observed)}: {verb} "
                             f"{t.op} {_show(t.metric, limit)}{against}")


def evaluate(slo: Slo, run: Observer, baseline: Observer | None = None) -> list[ThresholdResult]:
    """Every threshold of `slo` against `run`, in file order."""
    return [evaluate_one(t, run, baseline) for t in slo.thresholds]
