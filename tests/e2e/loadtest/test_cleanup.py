"""SIGTERM (a CI timeout, `timeout`, `kill`) stops a run like a failure: server and Locust gone, tokens revoked."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from loadtest.tokens import ROLES
from tests.e2e.loadtest.conftest import ERPOPS, PROGRESS, tokens

pytestmark = pytest.mark.slow


def _wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:.0f}s for {what}")


def _created_tokens(database_url: str) -> bool:
    """Every role's token written (a SIGTERM between two of them revokes those written, and the rest never are)."""
    try:
        return len(tokens(database_url)) == len(ROLES)
    except Exception:
        return False


@pytest.mark.parametrize("point", ["setup", "load"])
def test_sigterm_during_a_run_stops_its_processes_and_revokes_its_tokens(point: str, tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'erp.sqlite'}"
    stderr, stdout = tmp_path / "stderr", tmp_path / "stdout"
    with stderr.open("w") as err, stdout.open("w") as out:
        run = subprocess.Popen([str(ERPOPS), "loadtest", "run", "--suite", "browse", "--users", "2", "--run-time",
                                "120s", "--out", str(tmp_path / "run"), "--database-url", database_url],
                               stdout=out, stderr=err, cwd=tmp_path)
        children: list[psutil.Process] = []
        try:
            if point == "setup":  # tokens written, Locust not started yet
                _wait_for(lambda: _created_tokens(database_url), 90, "the run's tokens")
            else:
                _wait_for(lambda: PROGRESS.search(stderr.read_text()), 120, "a progress line")
            children = psutil.Process(run.pid).children(recursive=True)
            run.send_signal(signal.SIGTERM)
            code = run.wait(60)
        finally:
            if run.poll() is None:
                run.kill()
                run.wait(10)
    assert code == 143, stderr.read_text()
    assert stdout.read_text() == ""  # no verdict: the run was stopped
    assert stderr.read_text().splitlines()[-1] == "error: terminated; everything this command started was stopped"
    assert children  # the API server, and Locust once it runs
    _wait_for(lambda: not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], 10,
              "every process of the run to be gone")
    left = tokens(database_url)
    assert len(left) == len(ROLES) and not any(left.values()), left
