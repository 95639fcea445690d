"""Scraping a /metrics endpoint over real HTTP, with `up` like Prometheus."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from monitor.sources import parse_exposition, scrape_source


def test_scrape_source_reports_up_and_down() -> None:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"# TYPE x_total counter\nx_total{a=\"1\"} 3\nx_created{a=\"1\"} 1\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/metrics"
    try:
        samples = scrape_source(url)()
    finally:
        server.shutdown()
        server.server_close()
    assert [(s.labels, s.value) for s in samples] == [
        ({"__name__": "x_total", "a": "1"}, 3.0), ({"__name__": "up", "instance": url}, 1.0)]
    down = scrape_source(url, timeout=0.5)()
    assert [(s.labels["__name__"], s.value) for s in down] == [("up", 0.0)]
    assert parse_exposition("") == []
