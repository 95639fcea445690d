"""A silence made over the API (by a role allowed to) mutes a running monitor at its next flush; one refused
for a wrong role or an endless window mutes nothing. The monitor and the API share the silences file."""

from __future__ import annotations

import time
from pathlib import Path

from monitor.bootstrap import build_monitor
from monitor.clock import ManualClock
from monitor.notifiers import MemoryNotifier
from monitor.service import Monitor
from monitor.settings import MonitorSettings, RouteSettings
from monitor.tsdb import Sample
from tests.e2e.monitor.conftest import OpsApi

RULES = """
groups:
  - name: db
    rules:
      - alert: DbDown
        expr: db_up
        op: "<"
        threshold: 1
        labels: {severity: critical}
        annotations: {summary: "{{ $labels.instance }} down", runbook_url: /api/monitor/runbooks/PostgresqlDown}
"""


def running_monitor(state: Path) -> tuple[Monitor, MemoryNotifier, ManualClock]:
    (state.parent / "rules.yaml").write_text(RULES)
    settings = MonitorSettings(rules=[state.parent / "rules.yaml"], state_dir=state, retry_min_backoff=0.01,
                               api_url="http://erp.example:8000",
                               route=RouteSettings(receiver="oncall", group_wait="0s", group_interval="1s",
                                                   repeat_interval="30s"))
    clock = ManualClock(time.time())  # the API stamps silences with the real time
    receiver = MemoryNotifier()
    monitor = build_monitor(settings, clock=clock, host=False, notifiers=[receiver])
    monitor.sources["db"] = lambda: [Sample({"__name__": "db_up", "instance": "db1"}, 0.0)]
    return monitor, receiver, clock


def sent_after_tick(monitor: Monitor, receiver: MemoryNotifier, clock: ManualClock) -> int:
    before = len(receiver.received)
    clock.advance(2.0)
    monitor.tick()
    for worker in monitor.workers:
        assert worker.drain(5.0)
    return len(receiver.received) - before


def test_api_silence_mutes_the_running_monitor(ops: OpsApi, monitor_env: Path) -> None:
    monitor, receiver, clock = running_monitor(monitor_env / "monitor")
    try:
        assert sent_after_tick(monitor, receiver, clock) == 1
        body = receiver.received[0]
        assert body["alerts"][0]["generatorURL"] == "http://erp.example:8000/api/monitor/rules/DbDown"
        assert body["alerts"][0]["annotations"]["runbook_url"] == (
            "http://erp.example:8000/api/monitor/runbooks/PostgresqlDown")

        silence = {"matchers": ['alertname="DbDown"'], "createdBy": "ana", "comment": "failover", "duration": "1h"}
        assert ops.post("/api/monitor/silences", silence, role=None).status_code == 401
        assert ops.post("/api/monitor/silences", silence, role="viewer").status_code == 403
        assert ops.post("/api/monitor/silences", {**silence, "endsAt": 1e308}, role="admin").status_code == 422
        clock.advance(60.0)  # past repeat_interval: the group is due again, and nothing silenced it
        assert sent_after_tick(monitor, receiver, clock) == 1

        created = ops.post("/api/monitor/silences", silence, role="operations")
        assert created.status_code == 201
        clock.advance(60.0)
        assert sent_after_tick(monitor, receiver, clock) == 0  # muted at the next flush

        assert ops.delete(f"/api/monitor/silences/{created.json()['silenceID']}", role="operations").status_code == 200
        clock.advance(60.0)
        assert sent_after_tick(monitor, receiver, clock) == 1
    finally:
        monitor.stop()
