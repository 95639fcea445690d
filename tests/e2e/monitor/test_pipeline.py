"""The whole monitor, tick by tick on a manual clock: sources -> rules -> dispatcher -> delivery."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.bootstrap import build_monitor
from monitor.clock import ManualClock
from monitor.notifiers import MemoryNotifier
from monitor.service import Monitor, MonitorCollector
from monitor.settings import MonitorSettings, RouteSettings
from monitor.silences import SilenceStore, new_silence
from monitor.tsdb import Sample

RULES = """
groups:
  - name: demo
    rules:
      - alert: DemoHigh
        expr: demo_signal
        op: ">"
        threshold: 100
        resolve_threshold: 90
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} at {{ $value }}", runbook_url: runbooks/x.md}
      - alert: Watchdog
        expr: vector(1)
        op: ">"
        threshold: 0
        labels: {severity: none}
        annotations: {summary: always, runbook_url: runbooks/monitor/Watchdog.md}
"""


class Signal:
    def __init__(self) -> None:
        self.values: dict[str, float] = {}

    def __call__(self) -> list[Sample]:
        return [Sample({"__name__": "demo_signal", "instance": i}, v) for i, v in self.values.items()]


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Monitor, Signal, MemoryNotifier, ManualClock]:
    (tmp_path / "rules.yaml").write_text(RULES)
    settings = MonitorSettings(
        rules=[tmp_path / "rules.yaml"], state_dir=tmp_path / "state", retry_min_backoff=0.01,
        route=RouteSettings(receiver="oncall", group_wait="1s", group_interval="10s", repeat_interval="1h"))
    clock = ManualClock()
    receiver = MemoryNotifier()
    monitor = build_monitor(settings, clock=clock, host=False, notifiers=[receiver])
    signal = Signal()
    monitor.sources["demo"] = signal
    return monitor, signal, receiver, clock


def demo_bodies(receiver: MemoryNotifier) -> list[dict[str, object]]:
    return [b for b in receiver.received if b["groupLabels"] == {"alertname": "DemoHigh"}]


def test_hundred_instances_one_notification_then_one_resolved_notice(setup: tuple) -> None:  # type: ignore[type-arg]
    monitor, signal, receiver, clock = setup
    try:
        signal.values = {f"host{i}": 150.0 for i in range(100)}
        first = monitor.tick()
        assert first.evaluations[0].state == "firing" and first.sent == []  # group_wait gathers
        clock.advance(1)
        second = monitor.tick()
        assert any("100 new firing" in s for s in second.sent)
        for _ in range(5):
            clock.advance(1)
            monitor.tick()
        assert monitor.workers[0].drain(5)
        bodies = demo_bodies(receiver)
        assert len(bodies) == 1 and len(bodies[0]["alerts"]) == 100  # type: ignore[arg-type]
        signal.values = {f"host{i}": 95.0 for i in range(100)}  # above the resolve threshold: still firing
        clock.advance(1)
        assert monitor.tick().evaluations[0].state == "firing"
        signal.values = {f"host{i}": 80.0 for i in range(100)}
        clock.advance(1)
        resolved = monitor.tick()  # the resolved notice leaves in the same tick, not at the group tick
        assert any("resolved or muted (sent at once)" in s for s in resolved.sent)
        assert monitor.workers[0].drain(5)
        bodies = demo_bodies(receiver)
        assert len(bodies) == 2 and bodies[1]["status"] == "resolved"
        watchdog = [b for b in receiver.received if b["groupLabels"] == {"alertname": "Watchdog"}]
        assert len(watchdog) == 1
    finally:
        monitor.stop()


def test_a_silenced_alert_is_evaluated_but_not_sent(setup: tuple, tmp_path: Path) -> None:  # type: ignore[type-arg]
    monitor, signal, receiver, clock = setup
    try:
        SilenceStore(tmp_path / "state" / "silences.json").add(
            new_silence(["instance=db1"], clock.now() - 1, clock.now() + 60, "ana", "maintenance"))
        signal.values = {"db1": 150.0, "db2": 150.0}
        for _ in range(3):
            monitor.tick()
            clock.advance(1)
        assert monitor.workers[0].drain(5)
        sent = [a["labels"]["instance"] for b in demo_bodies(receiver) for a in b["alerts"]]  # type: ignore[attr-defined]
        assert sent == ["db2"]
        assert sum(1 for i in monitor.evaluations[0].instances if i.state == "firing") == 2
    finally:
        monitor.stop()


def test_collector_exposes_samples_and_rule_states(setup: tuple) -> None:  # type: ignore[type-arg]
    monitor, signal, _receiver, _clock = setup
    try:
        signal.values = {"db1": 150.0}
        monitor.tick()
        families = {f.name: f for f in MonitorCollector(monitor).collect()}
        assert families["demo_signal"].samples[0].value == 150.0
        states = {s.labels["alertname"]: s.value for s in families["erpops_monitor_rule_state"].samples}
        assert states == {"DemoHigh": 2.0, "Watchdog": 2.0}
    finally:
        monitor.stop()


def test_a_broken_source_is_reported_not_fatal(setup: tuple) -> None:  # type: ignore[type-arg]
    monitor, _signal, _receiver, _clock = setup
    try:
        def broken() -> list[Sample]:
            raise OSError("disk gone")

        monitor.sources["broken"] = broken
        result = monitor.tick()
        assert "source broken failed: disk gone" in result.reason
    finally:
        monitor.stop()


def test_run_is_bounded_by_ticks(setup: tuple) -> None:  # type: ignore[type-arg]
    monitor, _signal, _receiver, _clock = setup
    seen: list[str] = []
    try:
        assert monitor.run(0.01, max_ticks=3, on_tick=lambda r: seen.append(r.reason)) == 3
        assert len(seen) == 3 and seen[0].startswith("2 rules, 1 firing")
    finally:
        monitor.stop()


def test_textfile_metrics_feed_the_backup_rule(tmp_path: Path) -> None:
    textfiles = tmp_path / "textfiles"
    textfiles.mkdir()
    (textfiles / "erpops_backup.prom").write_text(
        "# TYPE erpops_backup_last_success_timestamp_seconds gauge\n"
        'erpops_backup_last_success_timestamp_seconds{site="local"} 1000\n')
    settings = MonitorSettings(state_dir=tmp_path / "state", textfile_dirs=[textfiles])
    monitor = build_monitor(settings, clock=ManualClock(1000 + 200_000), host=False, notifiers=[])
    try:
        monitor.tick()
        backup = next(e for e in monitor.evaluations if e.rule == "ErpLastBackupTooOld")
        assert backup.state == "firing"
        assert backup.instances[0].labels["site"] == "local"
    finally:
        monitor.stop()


def test_run_flushes_a_group_when_group_wait_ends_not_at_the_next_tick(tmp_path: Path) -> None:
    from monitor.clock import SystemClock

    (tmp_path / "rules.yaml").write_text(RULES)
    settings = MonitorSettings(rules=[tmp_path / "rules.yaml"], state_dir=tmp_path / "state",
                               route=RouteSettings(group_wait="0.2s"))
    receiver = MemoryNotifier()
    monitor = build_monitor(settings, clock=SystemClock(), host=False, notifiers=[receiver])
    try:
        first: list[list[str]] = []
        assert monitor.run(1.0, max_ticks=1, on_tick=lambda r: first.append(r.sent)) == 1
        assert first == [[]]  # the tick itself sent nothing: group_wait was running
        assert monitor.workers[0].drain(5)
        assert [b["groupLabels"] for b in receiver.received] == [{"alertname": "Watchdog"}]
    finally:
        monitor.stop()
