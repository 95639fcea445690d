"""`monitor.http.install(app)` on the real API: request metrics by route template on /metrics, and the silences REST API."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.sources import parse_exposition
from tests.dbhelpers import sqlite_engine
from tests.e2e.monitor.conftest import OpsApi, make_ops


def _with_test_routes(ops: OpsApi) -> OpsApi:
    @ops.app.get("/sales-orders/{order_id}")
    def get_order(order_id: int) -> dict[str, int]:
        return {"id": order_id}

    @ops.app.post("/boom")
    def boom() -> None:
        raise RuntimeError("bug")

    return ops


def test_metrics_count_by_route_template_never_raw_paths(ops: OpsApi) -> None:
    client = _with_test_routes(ops).client
    for order_id in (1, 2, 3):
        assert client.get(f"/sales-orders/{order_id}").status_code == 200
    assert client.get("/no/such/path").status_code == 404
    assert client.post("/boom").status_code == 500
    text = ops.get("/metrics", role="viewer").text
    assert 'erpops_http_requests_total{method="GET",route="/sales-orders/{order_id}",status="200"} 3' in text
    assert 'route="<unmatched>",status="404"' in text
    assert 'erpops_http_requests_total{method="POST",route="/boom",status="500"} 1' in text
    assert "/sales-orders/1" not in text
    assert 'erpops_http_request_duration_seconds_count{method="GET",route="/sales-orders/{order_id}"} 3' in text
    assert "erpops_http_requests_in_flight 1" in text  # the scrape itself
    parsed = {(s.labels["__name__"], s.labels.get("le", "")): s.value for s in parse_exposition(text)
              if s.labels.get("route") == "/sales-orders/{order_id}"}
    assert parsed[("erpops_http_request_duration_seconds_bucket", "+Inf")] == 3.0
    assert parsed[("erpops_http_requests_total", "")] == 3.0


def test_metrics_need_a_token_unless_configured_public(ops: OpsApi, monitor_env: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    assert ops.get("/metrics", role=None).status_code == 401
    assert ops.get("/metrics", role="sales").status_code == 403
    assert ops.get("/metrics", role="admin").status_code == 200
    monkeypatch.setenv("ERPOPS_MONITOR__METRICS_PUBLIC", "true")
    with sqlite_engine(monitor_env) as engine:
        public = make_ops(engine)
        answer = public.get("/metrics", role=None)
    assert answer.status_code == 200 and "erpops_http_requests_total" in answer.text


def test_silences_rest(ops: OpsApi) -> None:
    created = ops.post("/api/monitor/silences", {
        "matchers": ['alertname="HostOutOfDiskSpace"', "instance=~db.*"], "createdBy": "ana",
        "comment": "resizing the volume", "duration": "2h"})
    assert created.status_code == 201, created.text
    sid = created.json()["silenceID"]
    listed = ops.get("/api/monitor/silences", role="viewer").json()
    assert [(s["id"], s["status"]["state"]) for s in listed] == [(sid, "active")]
    assert listed[0]["matchers"][1] == {"name": "instance", "value": "db.*", "isRegex": True, "isEqual": True}
    expired = ops.delete(f"/api/monitor/silences/{sid}")
    assert expired.json()["status"]["state"] == "expired"
    assert ops.delete("/api/monitor/silences/nope").status_code == 404
    bad = ops.post("/api/monitor/silences", {"matchers": ["x~1"], "createdBy": "a", "comment": "c"})
    assert bad.status_code == 422 and "not a matcher" in bad.json()["detail"]


def test_db_time_and_escaping() -> None:
    from sqlalchemy import create_engine, text

    from monitor.http import RequestMetrics, instrument_engine

    metrics = RequestMetrics()
    engine = create_engine("sqlite://")
    instrument_engine(engine, metrics)
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        conn.execute(text("SELECT 2"))
    engine.dispose()
    metrics.observe("GET", 'odd"route\\', 200, 0.2)
    metrics.cache_lookup("price", hit=True)
    samples = parse_exposition(metrics.scrape().decode())
    values = {s.labels["__name__"]: s for s in samples}
    assert values["erpops_db_query_duration_seconds_count"].value == 2.0
    assert values["erpops_http_requests_total"].labels["route"] == 'odd"route\\'
    assert values["erpops_cache_requests_total"].labels == {"__name__": "erpops_cache_requests_total",
                                                            "cache": "price", "result": "hit"}


def test_pool_gauges_when_the_app_has_an_engine(tmp_path: Path) -> None:
    from fastapi import FastAPI
    from sqlalchemy import create_engine
    from sqlalchemy.pool import QueuePool

    from monitor.http import install

    engine = create_engine(f"sqlite:///{tmp_path / 'x.sqlite'}", poolclass=QueuePool, pool_size=3)
    app = FastAPI()
    app.state.engine = engine
    metrics = install(app, metrics_public=True)
    with engine.connect():
        text = metrics.scrape().decode()
    engine.dispose()
    assert "erpops_db_pool_checked_out 1" in text and "erpops_db_pool_size 3" in text
