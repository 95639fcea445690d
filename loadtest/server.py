"""The API server a run starts for itself: `python -m loadtest.server --database-url URL --port N`.

A separate process (not a thread of the harness), so its CPU is its own and it stops by its PID. Starting
it and waiting for `/healthz` is `opskit.proc.start_http_server`; a server that does not come up raises
`opskit.errors.Unavailable` (exit 4).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from opskit.ports import free_port
from opskit.proc import ServerProcess, start_http_server


def start_server(database_url: str, log_path: Path, port: int | None = None, wait_s: float = 60.0) -> ServerProcess:
    """Start the API on 127.0.0.1 over `database_url` (migrated on start) and wait until /healthz answers."""
    port = port or free_port()
    argv = [sys.executable, "-m", "loadtest.server", "--database-url", database_url, "--port", str(port)]
    return start_http_server(argv, f"http://127.0.0.1:{port}", log_path,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"}, wait_s=wait_s)


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
