"""Alerting rules: Prometheus-shaped YAML plus a comparison, a threshold and a `resolve_threshold`."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from erpcore.exceptions import ConfigError
from monitor.clock import parse_duration
from monitor.query import check
from monitor.types import Comparison, Labels

NO_DATA_POLICIES = ("ok", "nodata", "alerting")
SEVERITIES = ("none", "info", "warning", "critical", "page")
NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Rule:
    """One alerting rule: fires while `expr op threshold`, resolves once `expr op resolve_threshold` fails."""

    alert: str
    expr: str
    op: Comparison
    threshold: float
    group: str = "default"
    resolve_threshold: float | None = None
    for_: float = 0.0
    keep_firing_for: float = 0.0
    labels: Labels = field(default_factory=dict)
    annotations: Labels = field(default_factory=dict)
    no_data: str = "nodata"

    @property
    def severity(self) -> str:
        return self.labels.get("severity", "warning")

    @property
    def runbook_url(self) -> str:
        return self.annotations["runbook_url"]

    def holds(self, value: float, firing: bool) -> bool:
        """Whether the condition is true: a firing instance is held to the resolve threshold."""
        if firing and self.resolve_threshold is not None:
            return self.op.holds(value, self.resolve_threshold)
        return self.op.holds(value, self.threshold)


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]
    interval: float | None = None


def parse_rule(data: dict[str, Any], group: str = "default") -> Rule:
    """Build one rule from its YAML mapping, raising `ConfigError` with the reason it is unusable."""
    name = str(data.get("alert", ""))
    where = f"rule {name or '?'} in group {group}"
    if not NAME.match(name):
        raise ConfigError(f"{where}: `alert` must be a metric-style name")
    unknown = set(data) - {"alert", "expr", "op", "threshold", "resolve_threshold", "for",
                           "keep_firing_for", "labels", "annotations", "no_data"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    expr = str(data.get("expr", ""))
    reason = check(expr) if expr else "`expr` is required"
    if reason:
        raise ConfigError(f"{where}: expr does not parse: {reason}")
    try:
        op = Comparison(str(data.get("op", ">")))
        threshold = float(data["threshold"])
        resolve = None if data.get("resolve_threshold") is None else float(data["resolve_threshold"])
        for_ = parse_duration(data.get("for", 0))
        keep = parse_duration(data.get("keep_firing_for", 0))
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: {exc.__class__.__name__}: {exc}") from None
    labels = {str(k): str(v) for k, v in (data.get("labels") or {}).items()}
    annotations = {str(k): str(v) for k, v in (data.get("annotations") or {}).items()}
    if not annotations.get("runbook_url"):
        raise ConfigError(f"{where}: annotations.runbook_url is required")
    if labels.get("severity", "warning") not in SEVERITIES:
        raise ConfigError(f"{where}: severity must be one of {', '.join(SEVERITIES)}")
    no_data = str(data.get("no_data", "nodata"))
    if no_data not in NO_DATA_POLICIES:
        raise ConfigError(f"{where}: no_data must be one of {', '.join(NO_DATA_POLICIES)}")
    if resolve is not None and op in (Comparison.EQ, Comparison.NE):
        raise ConfigError(f"{where}: resolve_threshold needs an ordering comparison")
    if resolve is not None and not op.holds(threshold, resolve) and threshold != resolve:
        raise ConfigError(f"{where}: resolve_threshold {resolve} must lie on the clear side of {threshold}")
    return Rule(name, expr, op, threshold, group, resolve, for_, keep, labels, annotations, no_data)


def parse_rules(document: dict[str, Any]) -> list[RuleGroup]:
    """Rule groups from a parsed YAML document (`groups: [{name, interval, rules: [...]}]`)."""
    groups: list[RuleGroup] = []
    for g in document.get("groups") or []:
        name = str(g.get("name", "default"))
        interval = parse_duration(g["interval"]) if g.get("interval") else None
        groups.append(RuleGroup(name, tuple(parse_rule(r, name) for r in g.get("rules") or []), interval))
    return groups


def load_rules(paths: list[Path] | None = None) -> list[RuleGroup]:
    """Load rule files (default: the rules shipped in `monitor/rules/`); names must be unique."""
    texts: list[tuple[str, str]] = []
    if paths:
        for path in paths:
            files = sorted(path.glob("*.yaml")) if path.is_dir() else [path]
            texts.extend((str(f), f.read_text()) for f in files)
    else:
        shipped = resources.files("monitor") / "rules"
        for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".yaml"):
                texts.append((entry.name, entry.read_text()))
    groups: list[RuleGroup] = []
    for name, text in texts:
        try:
            document = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{name}: not YAML: {exc}") from None
        groups.extend(parse_rules(document))
    seen: set[str] = set()
    for rule in (r for g in groups for r in g.rules):
        if rule.alert in seen:
            raise ConfigError(f"rule {rule.alert} is defined twice")
        seen.add(rule.alert)
    return groups


def all_rules(groups: list[RuleGroup]) -> list[Rule]:
    return [r for g in groups for r in g.rules]


TEMPLATE = re.compile(r"\{\{\s*(\$labels\.([A-Za-z_][A-Za-z0-9_]*)|\$value)\s*(\|\s*(\w+)\s*)?\}\}")


def render(template: str, labels: Labels, value: float | None) -> str:
    """Expand the Go-template subset the rules use: `{{ $labels.x }}`, `{{ $value }}`, `| humanize`."""

    def sub(m: re.Match[str]) -> str:
        if m.group(2):
            return labels.get(m.group(2), "")
        if value is None:
            return ""
        return humanize(value, m.group(4))

    return TEMPLATE.sub(sub, template)


def humanize(value: float, how: str | None) -> str:
    if math.isinf(value) or math.isnan(value):
        return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")  # as Prometheus writes them
    if how == "humanizePercentage":
        return f"{value * 100:.4g}%"
    if how == "humanizeDuration":
        return f"{value:.4g}s"
    if how == "humanize":
        for size, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:.4g}{suffix}"
        return f"{value:.4g}"
    return f"{value:g}"
