"""`erpops failover promote`: the PostgresqlDown runbook's step, run as the operator runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from opskit.ports import free_port

ROOT = Path(__file__).resolve().parents[3]


def erpops(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    environ = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "erpops", *args], cwd=ROOT, env=environ, capture_output=True,
                          text=True, timeout=180, check=False)


@pytest.fixture(autouse=True)
def empty_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No erpops.toml of the machine leaks in (an empty one, not a missing one: that is an error)."""
    config = tmp_path / "erpops.toml"
    config.write_text("")
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert "Traceback" not in done.stderr
    return lines[0]


@pytest.fixture
def lab(empty_config: None) -> Iterator[dict[str, object]]:
    up = erpops("failover", "lab", "up", "--json")
    assert up.returncode == 0, up.stderr
    data: dict[str, object] = json.loads(up.stdout)
    try:
        yield data
    finally:
        down = erpops("failover", "lab", "down", "--lab", str(data["lab"]))
        assert down.returncode == 0, down.stderr


def kill_primary(lab: dict[str, object]) -> None:
    nodes = lab["nodes"]
    assert isinstance(nodes, list)
    pid = int(nodes[0]["pid"])
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.05)


@pytest.mark.cluster
def test_promote_refuses_while_the_primary_lives_then_promotes_the_standby_once(lab: dict[str, object]) -> None:
    path = str(lab["lab"])
    refused = erpops("failover", "promote", "--lab", path)
    assert refused.returncode == 1
    assert one_error_line(refused) == ("error: node1 still accepts writes: promoting node2 would split the brain; "
                                       "fence the primary first (or pass --force)")

    kill_primary(lab)  # the PostgresqlDown situation: the primary is lost
    done = erpops("failover", "promote", "--lab", path, "--json")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["member"] == "node2" and result["timeline"] == 2
    assert result["reason"].startswith("node2 is the primary on timeline 2")
    assert any("no primary answers" in step for step in result["steps"])
    assert any("committed a write" in step for step in result["steps"])

    status = json.loads(erpops("failover", "status", "--lab", path, "--json").stdout)
    assert {m["name"]: m["role"] for m in status["members"]} == {"node1": "down", "node2": "primary"}

    again = erpops("failover", "promote", "--lab", path)
    assert again.returncode == 1
    assert one_error_line(again) == ("error: nothing to promote: no member of the lab is a standby in recovery "
                                     "(node1 down, node2 primary)")
    named = erpops("failover", "promote", "--lab", path, "--member", "node2")
    assert one_error_line(named) == "error: nothing to promote: node2 already accepts writes (it is not in recovery)"


@pytest.mark.cluster
def test_promote_by_dsn_refuses_a_standby_that_still_streams(lab: dict[str, object]) -> None:
    nodes = lab["nodes"]
    assert isinstance(nodes, list)
    dsn = f"host=127.0.0.1 port={nodes[1]['port']} user=postgres dbname=postgres"
    done = erpops("failover", "promote", "--standby", dsn)
    assert done.returncode == 1
    line = one_error_line(done)
    assert line.startswith(f"error: 127.0.0.1:{nodes[1]['port']} still streams from its primary at "
                           f"127.0.0.1:{nodes[0]['port']}")
    # the configured target is the same standby
    configured = erpops("failover", "promote", env={"ERPOPS_FAILOVER__STANDBY_DSN": dsn})
    assert configured.returncode == 1 and one_error_line(configured) == line


@pytest.mark.parametrize(("args", "message"), [
    ([], "error: nothing to promote: pass --lab DIR or --standby DSN, or set [failover] standby_dsn"),
    (["--member", "node2"], "error: --member names a member of a lab: give --lab too"),
    (["--lab", "/nonexistent/lab", "--standby", "port=1"], "error: give either --lab or --standby, not both"),
    (["--lab", "/nonexistent/lab"], ("error: no lab at /nonexistent/lab (FileNotFoundError): pass the directory "
                                    "`erpops failover lab up` printed")),
    (["--standby", "host=x port"], "error: --standby is not a libpq connection string: "),
])
def test_promote_usage_errors_exit_2_with_one_line(args: list[str], message: str) -> None:
    done = erpops("failover", "promote", *args)
    assert done.returncode == 2, done.stderr
    assert one_error_line(done).startswith(message)


def test_promote_a_standby_that_does_not_answer_is_unavailable() -> None:
    port = free_port()
    done = erpops("failover", "promote", "--standby", f"host=127.0.0.1 port={port} user=postgres")
    assert done.returncode == 4
    assert one_error_line(done).startswith(f"error: 127.0.0.1:{port} does not answer: ")


def test_promote_leaves_a_patroni_lab_to_patroni(tmp_path: Path) -> None:
    (tmp_path / "lab.json").write_text(json.dumps({"base": str(tmp_path), "kind": "patroni", "nodes": []}))
    done = erpops("failover", "promote", "--lab", str(tmp_path))
    assert done.returncode == 2
    assert "Patroni promotes its members" in one_error_line(done)
