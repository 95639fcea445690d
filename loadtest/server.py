"""The API server a run starts for itself: `python -m loadtest.server --database-url URL --port N`.

A separate process (not a thread of the harness), so its CPU is its own and it stops by its PID.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import httpx

from erpcore.exceptions import ErpError


class ServerFailed(ErpError):
    """The API server did not come up: a harness failure."""

    exit_code = 2
    code = "server_failed"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class ServerProcess:
    """A running API server: its URL, process and log file."""

    url: str
    process: subprocess.Popen[bytes]
    log: IO[bytes]

    def stop(self, timeout: float = 10.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; returns the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        self.log.close()
        return self.process.returncode


def start_server(database_url: str, log_path: Path, port: int | None = None, wait_s: float = 60.0) -> ServerProcess:
    """Start the API on 127.0.0.1 over `database_url` (migrated on start) and wait until /healthz answers."""
    port = port or free_port()
    log = log_path.open("wb")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen([sys.executable, "-m", "loadtest.server", "--database-url", database_url,
                                "--port", str(port)], stdout=log, stderr=subprocess.STDOUT, env=env)
    server = ServerProcess(f"http://127.0.0.1:{port}", process, log)
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            server.stop()
            tail = log_path.read_text(errors="replace")[-500:]
            raise ServerFailed(f"the API server exited with {process.returncode}: {tail}")
        try:
            if httpx.get(server.url + "/healthz", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise ServerFailed(f"the API server did not answer on {server.url} within {wait_s:.0f}s")


def main(argv: list[str] | None = None) -> None:
    """Migrate the database, then serve the API with uvicorn until SIGTERM."""
    import uvicorn

    from erpcore.api.app import create_app
    from erpcore.db import make_engine
    from erpcore.migrate import current, head, upgrade

    parser = argparse.ArgumentParser(prog="python -m loadtest.server")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args(argv)
    engine = make_engine(args.database_url)
    if current(engine) != head():  # erpcore's alembic_config cannot take a URL with `%` (escaped options)
        upgrade(engine)
    uvicorn.run(create_app(engine), host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
