"""A server process a command starts for itself: started, waited for over HTTP, stopped by its PID."""

from __future__ import annotations

import signal
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from opskit.errors import Unavailable


@dataclass
class ServerProcess:
    """A running server: its base URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status. Safe to call more than once."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        if not self.log.closed:
            self.log.close()
        return self.process.returncode


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether `url` answers 200 over HTTP right now."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return int(response.status) == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def start_http_server(
    argv: Sequence[str], base_url: str, log_path: Path, health_path: str = "/healthz",
    env: Mapping[str, str] | None = None, wait_s: float = 60.0,
) -> ServerProcess:
    """Start `argv` with its output in `log_path`, and wait until `base_url + health_path` answers 200.

    Raises `Unavailable` (after stopping the process) when it exits or does not answer within `wait_s`.
    """
    log = log_path.open("wb")
    process = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT,
                               env=dict(env) if env is not None else None)
    server = ServerProcess(base_url, process, log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            tail = log_path.read_text(errors="replace")[-500:]
            raise Unavailable(f"the server exited with {process.returncode}: {tail}")
        if answers(base_url + health_path):
            return server
        time.sleep(0.2)
    server.stop()
    raise Unavailable(f"the server did not answer on {base_url} within {wait_s:.0f}s")
