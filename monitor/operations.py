"""What the CLI and the API both do with silences and rules, from the settings: one behaviour, two front doors."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from erpcore.exceptions import ValidationFailed
from monitor.clock import parse_duration
from monitor.links import resolve_runbook, rule_url
from monitor.rules import Rule, all_rules, load_rules
from monitor.settings import MonitorSettings, load_monitor_settings
from monitor.silences import Silence, SilencePolicy, SilenceStore, new_silence

CRITICAL = frozenset({"critical", "page"})


def silence_store(settings: MonitorSettings | None = None) -> SilenceStore:
    """The silences file every front door and a running monitor share."""
    return SilenceStore((settings or load_monitor_settings()).silences_path)


def silence_policy(settings: MonitorSettings) -> SilencePolicy:
    """The longest silence, and the critical alerts (as their rules label them) no silence may all mute."""
    critical = tuple({**r.labels, "alertname": r.alert} for r in all_rules(load_rules(settings.rules or None))
                     if r.severity in CRITICAL)
    return SilencePolicy(parse_duration(settings.silence_max_duration), critical)


def _seconds(text: str, what: str) -> float:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise ValidationFailed(f"{what}: {exc} (e.g. 30m, 2h)") from None


def create_silence(matchers: list[str], author: str, comment: str, *, starts_at: float | None = None,
                   ends_at: float | None = None, duration: str | None = None, start_in: str | None = None,
                   confirm: bool = False, settings: MonitorSettings | None = None) -> Silence:
    """Validate a silence against the configured policy and store it.

    The window is `starts_at` (or now + `start_in`, or now) to `ends_at` (or its start + `duration`, 1h).
    """
    settings = settings or load_monitor_settings()
    now = time.time()
    starts = starts_at if starts_at is not None else now + _seconds(start_in or "0s", "start in")
    ends = ends_at if ends_at is not None else starts + _seconds(duration or "1h", "duration")
    silence = new_silence(matchers, starts, ends, author, comment, silence_policy(settings), now=now,
                          confirm=confirm)
    return silence_store(settings).add(silence)


def rule_row(rule: Rule, api_url: str) -> dict[str, Any]:
    """One rule as data: its condition, timing, severity and the links its alerts carry."""
    return {"alert": rule.alert, "group": rule.group, "expr": " ".join(rule.expr.split()), "op": str(rule.op),
            "threshold": rule.threshold, "resolve_threshold": rule.resolve_threshold, "for": rule.for_,
            "keep_firing_for": rule.keep_firing_for, "severity": rule.severity, "no_data": rule.no_data,
            "labels": dict(rule.labels), "runbook_url": resolve_runbook(api_url, rule.runbook_url),
            "generator_url": rule_url(api_url, rule.alert)}


def rule_rows(paths: list[Path] | None = None, settings: MonitorSettings | None = None) -> list[dict[str, Any]]:
    """Every configured rule (or those in `paths`) as `rule_row` data."""
    settings = settings or load_monitor_settings()
    return [rule_row(r, settings.api_url) for r in all_rules(load_rules(paths or settings.rules or None))]
