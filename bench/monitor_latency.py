"""Threshold crossing to webhook received: erpops' embedded engine head to head with Prometheus + Alertmanager.

One exporter serves `erp_demo_signal{trial=...}`; Prometheus (scrape and evaluation every 1 s) hands
the alert to Alertmanager (group_wait 1 s) which posts to a webhook; erpops' monitor scrapes the same
exporter every 1 s and posts to a second webhook path. Each trial raises a fresh series above the
threshold, waits for both firing notices, lowers it and waits for both resolved notices. Every server
listens on 127.0.0.1 only; the run is bounded by --trials and per-wait timeouts.

    .venv/bin/python -m bench.monitor_latency [--trials 8] [--our-group-wait 0] [--am-group-interval 10s]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from monitor.clock import parse_duration
from monitor.delivery import DeliveryWorker
from monitor.dispatcher import Dispatcher, Route
from monitor.notifiers import WebhookNotifier
from monitor.rules import all_rules, parse_rules
from monitor.service import EmbeddedSink, Monitor
from monitor.sources import scrape_source
from opskit.ports import free_port

RULE = {"alert": "ErpDemoSignalHigh", "expr": 'erp_demo_signal{mode="for0"}', "op": ">", "threshold": 100,
        "labels": {"severity": "page", "team": "erp-core"},
        "annotations": {"summary": "Demo signal is {{ $value }} (> 100) on trial {{ $labels.trial }}",
                        "runbook_url": "https://runbooks.example.invalid/erp/ErpDemoSignalHigh"}}



class Http:
    """Exporter (GET /metrics) and webhook receiver (POST /<who>) in one 127.0.0.1 server."""

    def __init__(self) -> None:
        self.port = free_port()
        self.values: dict[str, float] = {}
        self.arrivals: list[tuple[float, str, dict[str, Any]]] = []
        http = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                lines = ["# TYPE erp_demo_signal gauge"] + [
                    f'erp_demo_signal{{mode="for0",trial="{t}"}} {v}' for t, v in list(http.values.items())]
                body = ("\n".join(lines) + "\n").encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                at = time.time()
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
                http.arrivals.append((at, self.path.strip("/"), body))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrival(self, who: str, trial: str, status: str, after: float) -> float | None:
        for at, path, body in list(self.arrivals):
            if path == who and at >= after and body.get("groupLabels", {}).get("trial") == trial \
                    and body.get("status") == status:
                return at
        return None


def start(cmd: list[str], log: Path, ready: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("w"))
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            if httpx.get(ready, timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not start: {log.read_text()[-1500:]}")


def prometheus_stack(tmp: Path, http: Http, am_group_interval: str) -> list[subprocess.Popen[bytes]]:
    am_port, prom_port = free_port(), free_port()
    (tmp / "am.yml").write_text(f"""
route: {{receiver: hook, group_by: [alertname, trial], group_wait: 1s, group_interval: {am_group_interval},
        repeat_interval: 1h}}
receivers: [{{name: hook, webhook_configs: [{{url: "http://127.0.0.1:{http.port}/prometheus", send_resolved: true}}]}}]
""")
    rule = {"groups": [{"name": "demo", "rules": [{
        "alert": RULE["alert"], "expr": f'{RULE["expr"]} > 100', "labels": RULE["labels"],
        "annotations": RULE["annotations"]}]}]}
    (tmp / "rules.yml").write_text(json.dumps(rule))
    (tmp / "prom.yml").write_text(f"""
global: {{scrape_interval: 1s, evaluation_interval: 1s, external_labels: {{monitor: anchor}}}}
rule_files: [{tmp / 'rules.yml'}]
alerting: {{alertmanagers: [{{static_configs: [{{targets: ["127.0.0.1:{am_port}"]}}]}}]}}
scrape_configs: [{{job_name: erp-anchor-exporter, static_configs: [{{targets: ["127.0.0.1:{http.port}"]}}]}}]
""")
    am = start(["prometheus-alertmanager", f"--config.file={tmp / 'am.yml'}", f"--storage.path={tmp / 'am'}",
                f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="],
               tmp / "am.log", f"http://127.0.0.1:{am_port}/-/ready")
    prom = start(["prometheus", f"--config.file={tmp / 'prom.yml'}", f"--storage.tsdb.path={tmp / 'prom'}",
                  f"--web.listen-address=127.0.0.1:{prom_port}"], tmp / "prom.log",
                 f"http://127.0.0.1:{prom_port}/-/ready")
    return [am, prom]


def erpops_monitor(http: Http, group_wait: float) -> tuple[Monitor, threading.Event, threading.Thread]:
    rules = all_rules(parse_rules({"groups": [{"name": "demo", "rules": [RULE]}]}))
    route = Route("hook", ("alertname", "trial"), group_wait, 10.0, 3600.0)
    worker = DeliveryWorker(WebhookNotifier(f"http://127.0.0.1:{http.port}/erpops"), 0.2, 5.0).start()
    monitor = Monitor(rules, EmbeddedSink(Dispatcher(route)), [worker],
                      {"exporter": scrape_source(f"http://127.0.0.1:{http.port}/metrics")})
    stop = threading.Event()
    thread = threading.Thread(target=monitor.run, kwargs={"interval": 1.0, "stop": stop}, daemon=True)
    thread.start()
    return monitor, stop, thread


def wait_both(http: Http, trial: str, status: str, since: float, timeout: float) -> dict[str, float | None]:
    deadline = time.time() + timeout
    got: dict[str, float | None] = {"erpops": None, "prometheus": None}
    while time.time() < deadline and None in got.values():
        for who, seen in list(got.items()):
            if seen is None:
                at = http.arrival(who, trial, status, since)
                got[who] = None if at is None else at - since
        time.sleep(0.005)
    return got


def summary(values: list[float | None]) -> str:
    seen = [v for v in values if v is not None]
    if not seen:
        return "no notice arrived"
    missed = len(values) - len(seen)
    return (f"p50 {statistics.median(seen):.2f} s  max {max(seen):.2f} s"
            + (f"  ({missed} missed)" if missed else ""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--our-group-wait", type=float, default=0.0,
                        help="erpops' group_wait (s); all alerts of one evaluation group anyway.")
    parser.add_argument("--am-group-interval", default="10s",
                        help="Alertmanager's group_interval, which delays its resolved notices.")
    args = parser.parse_args()
    http = Http()
    results: dict[str, dict[str, list[float | None]]] = {
        "erpops": {"firing": [], "resolved": []}, "prometheus": {"firing": [], "resolved": []}}
    with tempfile.TemporaryDirectory(prefix="bench-monitor-") as tmp:
        procs = prometheus_stack(Path(tmp), http, args.am_group_interval)
        monitor, stop, thread = erpops_monitor(http, args.our_group_wait)
        try:
            time.sleep(3)  # both have scraped the exporter and evaluated a few times
            resolve_wait = parse_duration(args.am_group_interval) + 5
            for i in range(args.trials):
                trial = f"for0-{i + 1}"
                time.sleep(random.uniform(0.0, 1.0))  # a random phase against both evaluation ticks
                crossed = time.time()
                http.values[trial] = 150.0
                for who, latency in wait_both(http, trial, "firing", crossed, 10).items():
                    results[who]["firing"].append(latency)
                cleared = time.time()
                http.values[trial] = 50.0
                for who, latency in wait_both(http, trial, "resolved", cleared, resolve_wait).items():
                    results[who]["resolved"].append(latency)
                print(f"trial {trial}: firing erpops {results['erpops']['firing'][-1]} prometheus "
                      f"{results['prometheus']['firing'][-1]}; resolved erpops {results['erpops']['resolved'][-1]} "
                      f"prometheus {results['prometheus']['resolved'][-1]}", flush=True)
        finally:
            stop.set()
            thread.join(5)
            monitor.stop()
            for proc in procs:
                proc.terminate()
                proc.wait(10)
            http.server.shutdown()
    print(f"\nthreshold crossing -> webhook received, {args.trials} trials, 1 s evaluation interval")
    print(f"  erpops (group_wait {args.our_group_wait:g} s)                firing   {summary(results['erpops']['firing'])}")
    print(f"  Prometheus + Alertmanager (group_wait 1 s)   firing   {summary(results['prometheus']['firing'])}")
    print(f"  erpops                                       resolved {summary(results['erpops']['resolved'])}")
    print(f"  Prometheus + Alertmanager (group_interval {args.am_group_interval}) resolved "
          f"{summary(results['prometheus']['resolved'])}")
    ours = [v for v in results["erpops"]["firing"] if v is not None]
    theirs = [v for v in results["prometheus"]["firing"] if v is not None]
    if ours and theirs:
        print(f"  ratio erpops / Prometheus+Alertmanager, firing p50: "
              f"{statistics.median(ours) / statistics.median(theirs):.2f}")
        target = statistics.median(ours) <= 1.0 and max(ours) <= 1.5
        print(f"  target p50 <= 1.0 s and max <= 1.5 s: {'met' if target else 'NOT met'}")


if __name__ == "__main__":
    main()
