"""A webhook receiver for the outbox tests: a real HTTP server on a free loopback port that can fail or be down.

It checks every POST's signature, and records each delivery (with its Idempotency-Key) in arrival order.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from erpcore.domain.delivery import SIGNATURE_HEADER, verify
from opskit.ports import free_port


@dataclass(frozen=True)
class Received:
    key: str
    topic: str
    body: dict[str, Any]
    signed: bool


class WebhookReceiver:
    """Answers 200 (or `fail_with`) to POSTs on 127.0.0.1:`port`; `stop()` and `start()` take it down and up."""

    def __init__(self, secret: str, port: int | None = None) -> None:
        self.secret = secret
        self.port = port or free_port()
        self.received: list[Received] = []
        self.fail_with: int | None = None
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/erp"

    def start(self) -> WebhookReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if receiver.fail_with is not None:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                signed = verify(receiver.secret, body, self.headers.get(SIGNATURE_HEADER, ""))
                with receiver.lock:
                    receiver.received.append(Received(self.headers.get("Idempotency-Key", ""),
                                                      self.headers.get("X-Erpops-Event", ""), json.loads(body),
                                                      signed))
                self.send_response(200 if signed else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def keys(self) -> list[str]:
        with self.lock:
            return [r.key for r in self.received]

    def wait_for(self, count: int, timeout: float = 20.0) -> list[str]:
        """The distinct idempotency keys received, once there are `count` of them (or the timeout passed)."""
        deadline = time.monotonic() + timeout
        while len(set(self.keys())) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return sorted(set(self.keys()))
