"""The same rules as a Prometheus rule file, for running them in an existing Prometheus.

Comparison and threshold join the expression (`(expr) > 0.8`). Hysteresis, which Prometheus lacks,
becomes: the threshold crossed, or the resolve threshold still crossed while the alert already fires
(`ALERTS{alertstate="firing"}`, matched on the series' own labels). `no_data` has no equivalent there.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from monitor.clock import format_duration
from monitor.links import resolve_runbook
from monitor.rules import Rule, RuleGroup


def _expr(rule: Rule) -> str:
    inner = re.sub(r"\s+", " ", rule.expr.strip())
    crossed = f"({inner}) {rule.op} {rule.threshold:g}"
    if rule.resolve_threshold is None:
        return crossed
    ignored = ", ".join(["alertname", "alertstate", *sorted(rule.labels)])
    firing = f'ALERTS{{alertname="{rule.alert}", alertstate="firing"}}'
    held = f"({inner}) {rule.op} {rule.resolve_threshold:g}"
    return f"{crossed} or ({held} and ignoring({ignored}) {firing})"


def prometheus_rule(rule: Rule, api_url: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"alert": rule.alert, "expr": _expr(rule)}
    if rule.for_:
        out["for"] = format_duration(rule.for_)
    if rule.keep_firing_for:
        out["keep_firing_for"] = format_duration(rule.keep_firing_for)
    out["labels"] = dict(rule.labels)
    out["annotations"] = {**rule.annotations, "runbook_url": resolve_runbook(api_url, rule.runbook_url)}
    return out


def export_rules(groups: list[RuleGroup], interval: float | None = None, api_url: str = "") -> str:
    """The YAML text of a Prometheus rule file holding every rule group, runbook links against `api_url`."""
    doc: dict[str, Any] = {"groups": []}
    for group in groups:
        g: dict[str, Any] = {"name": group.name}
        if group.interval or interval:
            g["interval"] = format_duration(group.interval or interval or 0)
        g["rules"] = [prometheus_rule(r, api_url) for r in group.rules]
        doc["groups"].append(g)
    return yaml.safe_dump(doc, sort_keys=False, width=200)
