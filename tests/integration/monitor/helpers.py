"""Test helpers: a webhook receiver that can be down, and a real Alertmanager on 127.0.0.1 (opskit starts it)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opskit.ports import free_port
from opskit.proc import start_http_server


class Receiver:
    """A webhook receiver on 127.0.0.1: records (arrival time, JSON body) of every POST."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.bodies: list[tuple[float, Any]] = []
        self.event = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                receiver.bodies.append((time.time(), json.loads(self.rfile.read(length))))
                receiver.event.set()
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def wait(self, count: int = 1, timeout: float = 10.0) -> list[Any]:
        deadline = time.time() + timeout
        while len(self.bodies) < count and time.time() < deadline:
            time.sleep(0.01)
        return [b for _, b in self.bodies]


ALERTMANAGER_CONFIG = """
route:
  receiver: hook
  group_by: [alertname]
  group_wait: {group_wait}
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: {url}
        send_resolved: true
"""


@contextmanager
def alertmanager(tmp: Path, webhook_url: str, group_wait: str = "0s") -> Iterator[str]:
    """A real Alertmanager on 127.0.0.1 (clustering off) routing everything to `webhook_url`."""
    port = free_port()
    config = tmp / "alertmanager.yml"
    config.write_text(ALERTMANAGER_CONFIG.format(url=webhook_url, group_wait=group_wait))
    (tmp / "am-data").mkdir(exist_ok=True)
    url = f"http://127.0.0.1:{port}"
    server = start_http_server(
        ["prometheus-alertmanager", f"--config.file={config}", f"--storage.path={tmp / 'am-data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address=", f"--web.external-url={url}"],
        url, tmp / "alertmanager.log", health_path="/-/ready", wait_s=15.0)
    try:
        yield url
    finally:
        server.stop(5.0)
