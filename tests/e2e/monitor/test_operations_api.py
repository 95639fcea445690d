"""The operations endpoints monitor mounts on the real API: tokens and roles, hostile silences, resolvable links."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Engine
from starlette.routing import Route

from monitor.alert import Alert
from monitor.dispatcher import Dispatcher
from monitor.dispatcher import Route as AlertRoute
from monitor.engine import RuleRunner
from monitor.rules import all_rules, load_rules
from monitor.silences import SilenceStore
from monitor.tsdb import SeriesStore
from tests.e2e.monitor.conftest import OpsApi, make_ops

SILENCES = "/api/monitor/silences"
OPEN = {"/healthz"}  # liveness for load balancers; /metrics is checked on its own below


def _docs(ops: OpsApi) -> set[str]:
    """The API's public documentation (the schema and the Swagger page), which holds no data."""
    app = ops.app
    return {p for p in (app.openapi_url, app.docs_url, app.redoc_url, app.swagger_ui_oauth2_redirect_url) if p}


def mounted(routes: Iterable[Any]) -> Iterator[tuple[str, set[str]]]:
    """(path, methods) of every route of an app, routers included however FastAPI holds them (0.165 keeps an
    included router as one lazy entry of `app.routes`, older versions copy its routes in)."""
    for route in routes:
        if hasattr(route, "effective_route_contexts"):
            for context in route.effective_route_contexts():
                yield context.path, set(getattr(context.original_route, "methods", None) or ())
        elif isinstance(route, APIRoute | Route):
            yield route.path, set(route.methods or ())


def test_every_mounted_route_refuses_a_request_without_a_token(engine: Engine, monitor_env: Path) -> None:
    ops = make_ops(engine)
    walked, refused = [], []
    for route_path, methods in mounted(ops.app.routes):
        if route_path in OPEN | _docs(ops):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route_path)
        for method in sorted(methods - {"HEAD", "OPTIONS"}):
            answer = ops.request(method, path, role=None, json={})
            walked.append(f"{method} {route_path}")
            if answer.status_code != 401:
                refused.append(f"{method} {route_path}: {answer.status_code}")
    assert refused == []
    assert len(walked) > 40  # the business API's routes were walked too
    assert {f"GET {SILENCES}", f"POST {SILENCES}", f"DELETE {SILENCES}/{{silence_id}}", "GET /metrics",
            "GET /api/monitor/rules/{name}", "GET /api/monitor/runbooks/{name}"} <= set(walked)


def test_an_anonymous_request_cannot_silence_postgresql_down(ops: OpsApi) -> None:
    body = {"matchers": ['alertname="PostgresqlDown"'], "createdBy": "anon", "comment": "shh", "duration": "2h"}
    answer = ops.post(SILENCES, body, role=None)
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert ops.post(SILENCES, body, role="admin").status_code == 201
    silences = ops.get(SILENCES, role="viewer").json()
    assert [s["createdBy"] for s in silences] == ["anon"]  # only the admin's request wrote
    assert ops.delete(f"{SILENCES}/{silences[0]['id']}", role=None).status_code == 401
    assert ops.get(SILENCES, role="viewer").json()[0]["status"]["state"] == "active"


@pytest.mark.parametrize(("role", "read", "write"), [
    ("admin", 200, 201), ("operations", 200, 201), ("viewer", 200, 403), ("sales", 403, 403),
    ("finance", 403, 403)])
def test_reading_and_changing_silences_by_role(ops: OpsApi, role: str, read: int, write: int) -> None:
    assert ops.get(SILENCES, role=role).status_code == read
    body = {"matchers": ["alertname=HostHighCpuLoad"], "createdBy": role, "comment": "reindex"}
    created = ops.post(SILENCES, body, role=role)
    assert created.status_code == write
    if write == 403:
        assert "ops.monitor.write" in created.json()["detail"]
        sid = ops.post(SILENCES, body, role="admin").json()["silenceID"]
        assert ops.delete(f"{SILENCES}/{sid}", role=role).status_code == 403


@pytest.mark.parametrize("ends_at", ["1e308", "Infinity", "-Infinity", "NaN", '"Infinity"', '"NaN"'])
def test_non_finite_or_absurd_end_times_are_refused(ops: OpsApi, ends_at: str) -> None:
    raw = ('{"matchers": ["alertname=PostgresqlDown"], "createdBy": "ana", "comment": "c", '
           f'"endsAt": {ends_at}}}')
    answer = ops.request("POST", SILENCES, content=raw, headers={"content-type": "application/json"})
    assert answer.status_code == 422, answer.text
    assert ops.get(SILENCES).json() == []


def test_silences_are_bounded_in_duration_and_must_end_in_the_future(ops: OpsApi) -> None:
    base = {"matchers": ["alertname=HostHighCpuLoad"], "createdBy": "ana", "comment": "c"}
    too_long = ops.post(SILENCES, {**base, "duration": "30d"})
    assert too_long.status_code == 422 and "at most 7d" in too_long.json()["detail"]
    past = ops.post(SILENCES, {**base, "startsAt": time.time() - 7200, "endsAt": time.time() - 3600})
    assert past.status_code == 422 and "end in the future" in past.json()["detail"]
    assert ops.post(SILENCES, {**base, "duration": "7d"}).status_code == 201


@pytest.mark.parametrize("matchers", [['severity="critical"'], ["alertname=~.+"], ['severity=~"crit.*"']])
def test_a_silence_muting_every_critical_alert_needs_confirmation(ops: OpsApi, matchers: list[str]) -> None:
    body = {"matchers": matchers, "createdBy": "ana", "comment": "all quiet", "duration": "1h"}
    refused = ops.post(SILENCES, body)
    assert refused.status_code == 422
    message = refused.json()["detail"]
    assert "mutes every critical alert" in message and "PostgresqlDown" in message and "confirm" in message
    assert ops.get(SILENCES).json() == []
    assert ops.post(SILENCES, {**body, "confirm": True}).status_code == 201


def test_a_narrow_critical_silence_needs_no_confirmation(ops: OpsApi) -> None:
    body = {"matchers": ['severity="critical"', 'alertname="PostgresqlDown"'], "createdBy": "ana",
            "comment": "failover drill", "duration": "1h"}
    assert ops.post(SILENCES, body).status_code == 201


def test_the_redos_matcher_is_matched_in_linear_time(ops: OpsApi, monitor_env: Path) -> None:
    body = {"matchers": ['alertname=~"(.*.*)*X"'], "createdBy": "ana", "comment": "redos", "duration": "1h"}
    assert ops.post(SILENCES, body).status_code == 201
    store = SilenceStore(monitor_env / "monitor" / "silences.json")
    now = time.time()
    for label in ("a" * 18, "PostgresqlDownAgain", "b" * 10_000, "a" * 30 + "X"):
        started = time.perf_counter()
        muted = store.muting({"alertname": label, "severity": "critical"}, now)
        assert time.perf_counter() - started < 0.5, label[:20]
        assert bool(muted) == label.endswith("X")
    dispatcher = Dispatcher(AlertRoute(receiver="hook", group_wait=0), silences=store)
    started = time.perf_counter()
    dispatcher.put([Alert({"alertname": "a" * 40, "severity": "critical"}, {}, now)], now)
    assert dispatcher.flush(now).notifications and time.perf_counter() - started < 0.5


def test_without_re2_the_redos_matcher_is_refused(ops: OpsApi, monkeypatch: pytest.MonkeyPatch) -> None:
    from monitor import regex

    monkeypatch.setattr(regex, "_re2", lambda: None)
    regex.compile_label_regex.cache_clear()
    try:
        body = {"matchers": ['alertname=~"(.*.*)*X"'], "createdBy": "ana", "comment": "c", "duration": "1h"}
        answer = ops.post(SILENCES, body)
        assert answer.status_code == 422 and "exponential" in answer.json()["detail"]
        assert ops.post(SILENCES, {**body, "matchers": ['alertname=~"Host.*"']}).status_code == 201
    finally:
        regex.compile_label_regex.cache_clear()


def _path(url: str) -> str:
    assert url.startswith("http://erp.example:8000/"), url
    return url.removeprefix("http://erp.example:8000")


def test_alert_links_open_the_rule_and_its_runbook(ops: OpsApi) -> None:
    for rule in all_rules(load_rules()):
        runner = RuleRunner(rule, "http://erp.example:8000")
        crossing = 1e12 if rule.op.value in (">", ">=") else -1e12
        runner.step({(("instance", "db1"),): crossing}, 0.0)
        runner.step({(("instance", "db1"),): crossing}, 1e5)
        alerts = runner.alerts(1e5)
        assert alerts, f"{rule.alert} did not fire"
        generator = _path(alerts[0].generator_url)
        assert "/graph" not in generator
        shown = ops.get(generator, role="viewer")
        assert shown.status_code == 200 and shown.json()["alert"] == rule.alert
        assert shown.json()["expr"] == " ".join(rule.expr.split())
        book = ops.get(_path(alerts[0].annotations["runbook_url"]), role="viewer")
        assert book.status_code == 200 and book.headers["content-type"].startswith("text/markdown")
        assert book.text.startswith(f"# {rule.alert}\n")
    assert ops.get(generator, role=None).status_code == 401


def test_unknown_rule_and_runbook_are_404(ops: OpsApi) -> None:
    assert ops.get("/api/monitor/rules/NoSuchAlert").status_code == 404
    missing = ops.get("/api/monitor/runbooks/NoSuchAlert")
    assert missing.status_code == 404 and "runbook list" in missing.json()["detail"]
    listed = ops.get("/api/monitor/rules", role="viewer").json()
    assert {"Watchdog", "PostgresqlDown"} <= {r["alert"] for r in listed}


def test_meta_alerts_link_to_their_runbooks_too(ops: OpsApi) -> None:
    rule = next(r for r in all_rules(load_rules()) if r.alert == "HostOutOfMemory")
    runner = RuleRunner(rule, "http://erp.example:8000")
    runner.step({}, 0.0)  # no data: MonitorNoData is raised only when the rule asks; error always is
    runner.evaluate(_BrokenStore(), 1.0)
    meta = [a for a in runner.alerts(1.0) if a.name == "MonitorRuleError"]
    assert meta and ops.get(_path(meta[0].annotations["runbook_url"])).text.startswith("# MonitorRuleError")


class _BrokenStore(SeriesStore):
    def candidates(self, name: str | None) -> list:  # type: ignore[override,type-arg]
        raise RuntimeError("store broken")


def test_the_schema_documents_every_operations_route_behind_the_bearer_token(ops: OpsApi) -> None:
    schema = ops.get("/api/v1/openapi.json", role=None).json()
    paths = {p: v for p, v in schema["paths"].items() if p.startswith("/api/monitor")}
    assert set(paths) == {SILENCES, f"{SILENCES}/{{silence_id}}", "/api/monitor/rules", "/api/monitor/rules/{name}",
                          "/api/monitor/runbooks/{name}"}
    assert all(op["security"] == [{"HTTPBearer": []}] for item in paths.values() for op in item.values())
    body = schema["components"]["schemas"]["SilenceIn"]["properties"]
    assert {"matchers", "createdBy", "comment", "startsAt", "endsAt", "duration", "confirm"} == set(body)
