"""The harness's clean-up with fakes: whatever ends a run, the server stops and the run's tokens are revoked."""

from __future__ import annotations

import json
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from erpcore.exceptions import ConfigError
from loadtest import harness
from loadtest.fixture import Fixture, SetupFailed
from loadtest.options import CI_SLO, RunOptions
from loadtest.runner import LocustRun
from loadtest.shapes import ShapeKind, ShapeSpec
from opskit.errors import Unavailable
from opskit.signals import Terminated, sigterm_unwinds

FIXTURE = Fixture({}, [], [], [], {}, {}, {}, "2024-01-01", "2024-01-31")


@dataclass
class FakeServer:
    url: str = "http://127.0.0.1:9"
    stopped: int = 0

    def stop(self) -> int:
        self.stopped += 1
        return 0


@dataclass
class FakeTokens:
    run_id: str = "r1"
    problem: str | None = None
    created: int = 0
    revoked: int = 0
    calls: list[str] = field(default_factory=list)

    def create(self) -> dict[str, str]:
        self.calls.append("create")
        self.created = 6
        return {"admin": "t"}

    def revoke(self) -> int:
        self.calls.append("revoke")
        self.revoked = self.created
        return self.revoked

    def to_json(self) -> dict[str, Any]:
        return {"created": self.created, "revoked": self.revoked, "problem": self.problem}


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch) -> FakeServer:
    fake = FakeServer()
    monkeypatch.setattr(harness, "start_server", lambda url, log: fake)
    monkeypatch.setattr(harness, "create_fixture", lambda host, tokens, **kw: FIXTURE)
    return fake


def _options(tmp_path: Path, **kw: Any) -> RunOptions:
    return RunOptions("browse", ShapeSpec(ShapeKind.RAMP, 1, 5.0), tmp_path / "out", database_url="sqlite://", **kw)


def _drive(tmp_path: Path, tokens: FakeTokens) -> harness._Driven:
    return harness._drive(_options(tmp_path), "sqlite://", tokens, None, None)  # type: ignore[arg-type]


def _raise(exc: BaseException) -> Any:
    def run(*_: Any, **__: Any) -> Any:
        raise exc
    return run


def test_sigterm_while_locust_runs_stops_the_server_and_revokes_the_tokens(
        tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "run_locust", _raise(Terminated("signal 15")))
    tokens = FakeTokens()
    with pytest.raises(Terminated):
        _drive(tmp_path, tokens)
    assert server.stopped == 1 and tokens.calls == ["create", "revoke"]


def test_ctrl_c_during_the_data_setup_also_cleans_up(tmp_path: Path, server: FakeServer,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "create_fixture", _raise(KeyboardInterrupt()))
    tokens = FakeTokens()
    with pytest.raises(KeyboardInterrupt):
        _drive(tmp_path, tokens)
    assert server.stopped == 1 and tokens.calls == ["create", "revoke"]


def test_a_refused_setup_is_a_harness_failure_after_clean_up(tmp_path: Path, server: FakeServer,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "create_fixture", _raise(SetupFailed("setup: create item answered 403: no")))
    tokens = FakeTokens()
    driven = _drive(tmp_path, tokens)
    assert driven.locust is None and driven.harness_error == "setup: create item answered 403: no"
    assert driven.host == server.url and server.stopped == 1 and tokens.calls == ["create", "revoke"]


def test_a_server_that_does_not_start_is_a_harness_failure_with_no_tokens_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "start_server", _raise(Unavailable("the server exited with 1: boom")))
    tokens = FakeTokens()
    driven = _drive(tmp_path, tokens)
    assert driven.harness_error == "the API server did not start: the server exited with 1: boom"
    assert tokens.calls == ["revoke"]  # nothing was created; revoke() is a no-op then (see loadtest.tokens)


def test_a_full_run_records_the_run_id_and_its_tokens_and_a_revocation_problem_fails_it(
        tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    stats = out / "stats.json"
    entry = {"method": "GET", "name": "/items", "num_requests": 10, "num_failures": 0, "total_response_time": 50.0,
             "max_response_time": 9, "start_time": 1.0, "last_request_timestamp": 6.0, "response_times": {"5": 10}}

    def fake_locust(plan: Any, gate: Any, on_progress: Any = None) -> LocustRun:
        stats.write_text(json.dumps([entry]))
        return LocustRun(0, False, None, stats, 6.0)

    monkeypatch.setattr(harness, "run_locust", fake_locust)
    monkeypatch.setattr(harness, "_database_check", lambda url: {"ok": True, "checked": 1, "violations": []})
    tokens = FakeTokens(run_id="abc123")
    monkeypatch.setattr(harness, "RunTokens", lambda url, run_id: tokens)
    verdict = harness.run(_options(tmp_path))
    assert (verdict.outcome, verdict.exit_code, verdict.run_id) == ("pass", 0, "abc123")
    assert verdict.tokens == {"created": 6, "revoked": 6, "problem": None}
    assert json.loads((out / "verdict.json").read_text())["tokens"]["revoked"] == 6

    tokens.problem = "the run's tokens stay active: revoking them failed: disk I/O error"
    tokens.calls.clear()
    failed = harness.run(_options(tmp_path))
    assert (failed.outcome, failed.exit_code) == ("harness_failure", 4) and failed.reason == tokens.problem


def test_the_ci_profile_slo_is_written_beside_the_reports(tmp_path: Path) -> None:
    options = _options(tmp_path, slo_text=CI_SLO)
    slo = harness._slo(options)
    assert slo is not None and len(slo.thresholds) == 4
    assert (options.out_dir / "slo.yaml").read_text() == CI_SLO


def test_a_host_without_a_token_or_database_is_a_usage_error(tmp_path: Path) -> None:
    options = RunOptions("browse", ShapeSpec(ShapeKind.RAMP, 1, 5.0), tmp_path / "out", host="http://x:1")
    with pytest.raises(ConfigError, match="with --host, give --token"):
        harness.run(options)
    assert not (tmp_path / "out").exists()  # refused before any work
    assert harness._database_url(RunOptions("browse", options.shape, tmp_path, host="http://x:1", token="t")) is None


def test_a_second_sigterm_during_clean_up_cannot_skip_the_token_revocation(
        tmp_path: Path, server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(harness, "run_locust", _raise(Terminated("signal 15")))

    def impatient_stop() -> int:  # `timeout` or CI sends SIGTERM again while the server stops
        os.kill(os.getpid(), signal.SIGTERM)
        server.stopped += 1
        return 0

    monkeypatch.setattr(server, "stop", impatient_stop)
    tokens = FakeTokens()
    with sigterm_unwinds(), pytest.raises(Terminated):
        _drive(tmp_path, tokens)
    assert server.stopped == 1 and tokens.calls == ["create", "revoke"]
