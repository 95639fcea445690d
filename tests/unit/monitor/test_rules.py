"""Rule files: validation with reasons, the shipped rules load, and templating."""

from __future__ import annotations

from pathlib import Path

import pytest

from erpcore.exceptions import ConfigError
from monitor.rules import load_rules, parse_rule, render

BASE = {"alert": "A", "expr": "x", "threshold": 1, "annotations": {"runbook_url": "r.md"}}


@pytest.mark.parametrize(
    ("patch", "reason"),
    [
        ({"annotations": {}}, "runbook_url is required"),
        ({"expr": "sum(x"}, "expr does not parse"),
        ({"op": ">", "resolve_threshold": 2}, "must lie on the clear side"),
        ({"labels": {"severity": "urgent"}}, "severity must be one of"),
        ({"no_data": "maybe"}, "no_data must be one of"),
        ({"foo": 1}, "unknown keys"),
        ({"for": "5x"}, "bad duration"),
    ],
)
def test_bad_rules_are_refused_with_reason(patch: dict[str, object], reason: str) -> None:
    with pytest.raises(ConfigError, match=reason):
        parse_rule({**BASE, **patch})


def test_durations_and_defaults() -> None:
    rule = parse_rule({**BASE, "for": "1m30s", "keep_firing_for": "5m"})
    assert (rule.for_, rule.keep_firing_for, rule.severity, rule.no_data) == (90.0, 300.0, "warning", "nodata")


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    text = "groups:\n- name: g\n  rules:\n" + "  - {alert: A, expr: x, threshold: 1, annotations: {runbook_url: r}}\n" * 2
    (tmp_path / "r.yaml").write_text(text)
    with pytest.raises(ConfigError, match="defined twice"):
        load_rules([tmp_path])


def test_render_labels_and_value() -> None:
    out = render("{{ $labels.instance }} at {{ $value | humanizePercentage }} ({{$value|humanize}})",
                 {"instance": "db1"}, 0.5)
    assert out == "db1 at 50% (0.5)"
    assert render("{{ $value | humanize }}", {}, 2_500_000.0) == "2.5M"
