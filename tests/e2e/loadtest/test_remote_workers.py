"""Remote workers: a master that waits for a separately started `erpops loadtest worker`, or fails in time."""

from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from opskit.ports import free_port
from tests.e2e.loadtest.conftest import ERPOPS, LoadTest

pytestmark = pytest.mark.slow


def test_a_remote_worker_makes_the_runs_requests_and_exits_when_it_ends(loadtest: LoadTest) -> None:
    port = free_port()
    out, err = loadtest.tmp_path / "worker.json", loadtest.tmp_path / "worker.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        # started before the master, as an operator would on another machine: nothing but where the master is
        worker = subprocess.Popen([str(ERPOPS), "loadtest", "worker", "--master-host", "127.0.0.1", "--master-port",
                                   str(port), "--name", "remote-a", "--wait", "120", "--json"],
                                  stdout=stdout, stderr=stderr, cwd=loadtest.tmp_path)
        try:
            run = loadtest("--suite", "browse", "--users", "2", "--run-time", "5s", "--remote-workers", "1",
                           "--master-port", str(port), "--remote-wait", "60", "--json")
            ended = time.monotonic()
            worker_code = worker.wait(30)  # it leaves when the master ends the run
            assert time.monotonic() - ended < 30
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(20)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(5)
    assert run.exit_code == 0, run.stderr + run.stdout
    v = run.verdict
    assert v["outcome"] == "pass" and v["requests"] > 0 and v["check_failures"] == 0
    # no local worker: the master makes no request itself, so every request came from the remote worker
    assert [w["name"] for w in v["workers"]] == ["remote-a"] and v["workers"][0]["remote"] is True
    assert v["workers"][0]["requests"] > 0 and v["workers"][0]["failures"] == 0
    assert [p["role"] for p in v["generator"]] == ["master", "remote remote-a"]
    assert v["metrics"]["TASK browse"]["count"] > 0 and v["database_check"]["ok"] is True
    assert worker_code == 0, err.read_text()
    summary = json.loads(out.read_text())
    assert summary["name"] == "remote-a" and summary["requests"] > 0 and summary["pid"] == v["workers"][0]["pid"]
    assert summary["shape"]["users"] == 2 and summary["shape"]["run_time_s"] == 5.0  # sent by the master


def test_remote_workers_that_never_arrive_fail_the_run_with_exit_4(loadtest: LoadTest) -> None:
    port = free_port()
    started = time.monotonic()
    run = loadtest("--suite", "browse", "--users", "1", "--run-time", "5s", "--remote-workers", "1",
                   "--master-port", str(port), "--remote-wait", "3", timeout=90)
    assert run.exit_code == 4, run.stderr + run.stdout
    assert time.monotonic() - started < 60
    assert run.verdict["outcome"] == "harness_failure" and run.verdict["requests"] == 0
    assert run.verdict["reason"].startswith(f"only 0 of 1 Locust workers (1 remote) connected to the master on "
                                            f"127.0.0.1:{port} within 3s")
    assert f"erpops loadtest worker --master-host <this host> --master-port {port}" in run.verdict["reason"]
    assert "harness_failure (exit 4)" in run.stdout
