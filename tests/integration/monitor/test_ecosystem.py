"""The real ecosystem: promtool accepts our exported rules; a real Alertmanager takes our alerts to a webhook."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import yaml

from monitor.alert import Alert
from monitor.delivery import DeliveryWorker
from monitor.dispatcher import Dispatcher, Route
from monitor.export import export_rules
from monitor.notifiers import AlertmanagerNotifier
from monitor.payload import api_v2_alerts
from monitor.rules import load_rules, parse_rules
from tests.integration.monitor.helpers import Receiver, alertmanager

EXTRA = {"groups": [{"name": "extra", "interval": "1s", "rules": [{
    "alert": "DemoHigh", "expr": 'sum by (instance) (rate(demo_total{job="x"}[1m]))', "op": ">",
    "threshold": 100, "resolve_threshold": 90, "for": "30s", "keep_firing_for": "1m",
    "labels": {"severity": "critical"},
    "annotations": {"summary": "{{ $labels.instance }} at {{ $value | humanize }}", "runbook_url": "r.md"},
}]}]}


def test_exported_rules_pass_the_real_promtool(tmp_path: Path) -> None:
    groups = load_rules() + parse_rules(EXTRA)
    text = export_rules(groups)
    path = tmp_path / "erpops.rules.yml"
    path.write_text(text)
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {sum(len(g.rules) for g in groups)} rules found" in result.stdout
    demo = yaml.safe_load(text)["groups"][-1]["rules"][0]
    assert demo["keep_firing_for"] == "1m" and demo["for"] == "30s"
    assert 'ALERTS{alertname="DemoHigh", alertstate="firing"}' in demo["expr"]


def test_promtool_refuses_a_broken_export(tmp_path: Path) -> None:
    path = tmp_path / "bad.yml"
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: X\n    expr: 'sum(('\n")
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode != 0


def test_an_alert_handed_to_a_real_alertmanager_reaches_a_webhook(tmp_path: Path) -> None:
    receiver = Receiver().start()
    try:
        with alertmanager(tmp_path, receiver.url) as am_url:
            now = time.time()
            alert = Alert({"alertname": "ErpDemo", "severity": "critical", "instance": "db1"},
                          {"summary": "demo", "runbook_url": "runbooks/erp/ErpDemo.md"}, now)
            worker = DeliveryWorker(AlertmanagerNotifier(am_url), min_backoff=0.05).start()
            try:
                worker.submit("alerts", api_v2_alerts([alert], now, 240.0))
                assert worker.drain(10.0) and worker.records[-1].ok
            finally:
                worker.stop()
            bodies = receiver.wait(1, timeout=15)
    finally:
        receiver.stop()
    assert bodies, "the webhook never got Alertmanager's notification"
    theirs = bodies[0]
    assert theirs["alerts"][0]["labels"] == alert.labels
    assert theirs["alerts"][0]["fingerprint"] == alert.fp
    ours = Dispatcher(Route(receiver="hook", group_by=("alertname",), group_wait=0))
    ours.put([alert], now)
    body = ours.flush(now).notifications[0].body
    assert list(body) == list(theirs)
    assert list(body["alerts"][0]) == list(theirs["alerts"][0])  # type: ignore[index]
    assert body["groupKey"] == theirs["groupKey"]
