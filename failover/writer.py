"""The built-in writer: N client threads committing through a multi-host libpq string, logging every attempt.

Each attempt is one transaction (BEGIN, INSERT, COMMIT) on the acknowledged-commit log table. Its outcome
follows where it failed: before COMMIT was sent it is an `error` (certainly not committed), while waiting
for COMMIT's answer it is `in_doubt` (the server may have committed), and a returned COMMIT is `acked`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg

from failover.types import Outcome

TABLE = "failover_probe"
CREATE_TABLE = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (client int NOT NULL, seq int NOT NULL, run text NOT NULL,"
    " acked_at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (run, client, seq))"
)


@dataclass(frozen=True)
class Attempt:
    """One write attempt of one client, with monotonic start/end times and the port that answered."""

    client: int
    seq: int
    started: float
    ended: float
    outcome: Outcome
    port: int | None = None
    error: str = ""


@dataclass
class ClientThreads:
    """The threads of a load, the event that stops them and their combined log of attempts."""

    attempts: list[Attempt] = field(default_factory=list)
    stopping: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)  # guards `attempts` and what a load adds to it
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self, loop: Callable[[int], None], clients: int, name: str) -> None:
        """Run `loop(client)` on `clients` daemon threads named `name-N`."""
        self.stopping.clear()
        for client in range(clients):
            thread = threading.Thread(target=loop, args=(client,), name=f"{name}-{client}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def stop(self, timeout: float) -> list[Attempt]:
        """Stop every client (one hung on a dead server is left behind after `timeout`); the log, oldest first."""
        self.stopping.set()
        deadline = time.monotonic() + timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self.lock:
            return sorted(self.attempts, key=lambda a: (a.started, a.client))

    def snapshot(self) -> list[Attempt]:
        """The attempts logged so far, while the clients keep going."""
        with self.lock:
            return list(self.attempts)

    def record(self, attempt: Attempt) -> None:
        with self.lock:
            self.attempts.append(attempt)


@dataclass
class Writer:
    """Client threads writing `failover_probe` rows until stopped; `attempts` is their combined log."""

    conninfo: str
    run: str
    clients: int = 4
    pause: float = 0.01
    _clients: ClientThreads = field(default_factory=ClientThreads, repr=False)

    def prepare(self) -> None:
        """Create the log table on whichever node accepts writes."""
        with psycopg.connect(self.conninfo, autocommit=True) as conn:
            conn.execute(CREATE_TABLE)

    def start(self) -> None:
        self._clients.start(self._loop, self.clients, "writer")

    def stop(self, timeout: float = 10) -> list[Attempt]:
        """Stop every client (a client hung on a dead server is left behind after `timeout`)."""
        return self._clients.stop(timeout)

    def snapshot(self) -> list[Attempt]:
        """The attempts logged so far, while the clients keep writing."""
        return self._clients.snapshot()

    @property
    def attempts(self) -> list[Attempt]:
        """Every attempt logged so far, in the order they were logged."""
        return self._clients.snapshot()

    def acked(self) -> int:
        return sum(1 for a in self._clients.snapshot() if a.outcome is Outcome.ACKED)

    def _loop(self, client: int) -> None:
        conn: psycopg.Connection[Any] | None = None
        seq = 0
        while not self._clients.stopping.is_set():
            seq += 1
            started = time.monotonic()
            phase = "connect"
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.conninfo, autocommit=True)
                phase = "insert"
                conn.execute("BEGIN")
                row = conn.execute(
                    f"INSERT INTO {TABLE} (client, seq, run) VALUES (%s, %s, %s) RETURNING inet_server_port()",
                    (client, seq, self.run),
                ).fetchone()
                phase = "commit"
                conn.execute("COMMIT")
                port = int(row[0]) if row and row[0] is not None else None
                self._clients.record(Attempt(client, seq, started, time.monotonic(), Outcome.ACKED, port))
            except psycopg.Error as exc:
                outcome = Outcome.IN_DOUBT if phase == "commit" else Outcome.ERROR
                message = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                self._clients.record(Attempt(client, seq, started, time.monotonic(), outcome, None, message[:200]))
                if conn is not None:
                    conn.close()
                conn = None
            self._clients.stopping.wait(self.pause)
        if conn is not None:
            conn.close()
