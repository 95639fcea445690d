"""The monitor scraping the real API's /metrics (`erpops serve` in its own process): refused without a token,
read with `monitor.scrape_token`, as Prometheus would scrape it with `authorization: {credentials: ...}`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from opskit.ports import free_port
from opskit.proc import ServerProcess, start_http_server

ROOT = Path(__file__).resolve().parents[3]


def erpops(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "erpops", *argv], env=env, capture_output=True, text=True,
                          timeout=120, check=False)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[ServerProcess, dict[str, str]]]:
    (tmp_path / "erpops.toml").write_text("")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ERPOPS_CONFIG": str(tmp_path / "erpops.toml"),
           "ERPOPS_DATABASE_URL": f"sqlite:///{tmp_path / 'erp.sqlite'}",
           "ERPOPS_MONITOR__STATE_DIR": str(tmp_path / "monitor")}
    port = free_port()
    server = start_http_server([sys.executable, "-m", "erpops", "serve", "--port", str(port), "--no-access-log"],
                               f"http://127.0.0.1:{port}", tmp_path / "api.log", env=env, wait_s=60)
    try:
        yield server, env
    finally:
        assert server.stop() is not None


def test_metrics_are_scraped_with_a_token_and_refused_without(api: tuple[ServerProcess, dict[str, str]]) -> None:
    server, env = api
    metrics = f"{server.url}/metrics"
    assert httpx.get(metrics, timeout=5).status_code == 401
    made = erpops(env, "token", "create", "--role", "operations", "--name", "prometheus")
    assert made.returncode == 0, made.stderr
    token = made.stdout.strip().split()[-1]
    assert httpx.get(metrics, headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200

    rules = Path(env["ERPOPS_CONFIG"]).parent / "scrape.yaml"
    rules.write_text("groups:\n- name: scrape\n  rules:\n  - {alert: ApiScrapeFailing, expr: up, op: '<', "
                     "threshold: 1, annotations: {runbook_url: https://wiki.example/ApiScrapeFailing}}\n")
    env = {**env, "ERPOPS_MONITOR__SCRAPE_URLS": json.dumps([metrics])}
    argv = ("monitor", "eval", "--no-database", "--rules", str(rules), "--json")
    without = erpops(env, *argv)
    assert without.returncode == 0, without.stderr
    assert json.loads(without.stdout)[0]["state"] == "firing"  # up 0: the API refused the scrape
    scraped = erpops({**env, "ERPOPS_MONITOR__SCRAPE_TOKEN": token}, *argv)
    assert json.loads(scraped.stdout)[0]["state"] == "inactive", scraped.stdout
    silence = {"matchers": ["alertname=HostHighCpuLoad"], "createdBy": "ops", "comment": "reindex"}
    assert httpx.post(f"{server.url}/api/monitor/silences", json=silence, timeout=5).status_code == 401
    created = httpx.post(f"{server.url}/api/monitor/silences", json=silence, timeout=5,
                         headers={"Authorization": f"Bearer {token}"})
    assert created.status_code == 201, created.text
