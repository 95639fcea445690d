"""A failed drill's alert lands in the ERP's outbox (SQLite here); the o2c load's API process is always stopped."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from erpcore.models import OutboxMessage
from failover import campaign, o2c
from failover.drill import DrillResult, primary_url
from failover.engines.fake import FakeEngine
from failover.o2c import ApiLoad
from failover.types import FailoverFailed
from opskit.errors import Unavailable
from opskit.proc import ServerProcess
from tests.dbhelpers import sqlite_engine


def failed(run: str) -> DrillResult:
    result = DrillResult("manual", "kill", run, "2026-01-01T00:00:00+00:00")
    result.failures.append("RPO: 1 acknowledged commits missing on node2")
    return result


def test_a_failed_drill_raises_one_alert_event_per_failed_drill(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite_engine(tmp_path) as erp:
        monkeypatch.setenv("ERPOPS_DATABASE_URL", str(erp.url))
        passed = DrillResult("manual", "kill", "ok1", "2026-01-01T00:00:00+00:00")
        said = campaign.raise_alert([failed("r1"), passed, failed("r2")])
        with erp.connect() as conn:
            payloads = [row[0] for row in conn.execute(select(OutboxMessage.payload))]
    assert said == "2 FailoverDrillFailed alert event(s) raised"
    assert [p["alertname"] for p in payloads] == ["FailoverDrillFailed"] * 2
    assert [p["labels"]["run"] for p in payloads] == ["r1", "r2"]
    assert "RPO: 1 acknowledged commits missing" in payloads[0]["annotations"]["summary"]


def test_an_alert_that_cannot_be_recorded_is_said_not_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sqlite_engine(tmp_path, migrate=False) as empty:  # no tables: the insert fails
        monkeypatch.setenv("ERPOPS_DATABASE_URL", str(empty.url))
        said = campaign.raise_alert([failed("r1")])
    assert said.startswith("alert event not recorded: ")


def test_the_erp_runs_on_the_current_primary_only() -> None:
    engine = FakeEngine()
    assert primary_url(engine) == "postgresql+psycopg://postgres@127.0.0.1:1001/postgres"
    engine.members = list  # type: ignore[method-assign]
    with pytest.raises(FailoverFailed, match="no primary to run the ERP on"):
        primary_url(engine)


@pytest.fixture
def no_erp(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("failover.drill.prepare_erp", lambda url: None)
    monkeypatch.setattr(o2c, "_token_and_order", lambda url, run: ("erp_token", {"customer_id": 1, "lines": []}))


def temp_logs() -> set[Path]:
    return set(Path("/tmp").glob("erpops-api-*.log"))


def test_an_api_that_does_not_start_leaves_no_process_and_no_log(no_erp: None, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuses(argv: list[str], base_url: str, log: Path, **kwargs: object) -> ServerProcess:
        assert log.name.startswith("erpops-api-") and log.exists()
        raise Unavailable("the server exited with 1: no such database")

    before = temp_logs()
    monkeypatch.setattr(o2c, "start_http_server", refuses)
    load = ApiLoad("postgresql+psycopg://x", "postgresql+psycopg://y", "run1")
    with pytest.raises(Unavailable, match="no such database"):
        load.prepare()
    assert load.pid is None and load.api_pids == []
    assert temp_logs() == before


def test_the_api_process_is_stopped_by_its_pid_and_its_temporary_log_removed(
    no_erp: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[ServerProcess] = []

    def starts(argv: list[str], base_url: str, log: Path, **kwargs: object) -> ServerProcess:
        assert argv[1:4] == ["-m", "uvicorn", "--factory"] and base_url.startswith("http://127.0.0.1:")
        handle = log.open("wb")
        started.append(ServerProcess(base_url, subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
                                                                stdout=handle), handle))
        return started[0]

    monkeypatch.setattr(o2c, "start_http_server", starts)
    load = ApiLoad("postgresql+psycopg://x", "postgresql+psycopg://y", "run2", clients=0)
    load.prepare()
    assert load.pid == started[0].process.pid and load.api_pids == [load.pid]
    assert load.stop(timeout=1) == []
    assert started[0].process.returncode == -15 and load.pid is None
    assert load._temp_log is None
