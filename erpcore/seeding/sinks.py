"""Where seeded rows go: buffered per table and written in large chunks.

PostgreSQL gets `COPY ... FROM STDIN` from a writer thread, so the server inserts one chunk while
Python generates the next; SQLite gets `executemany`, one transaction per chunk.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from typing import Any

from erpcore.seeding.rows import COLUMNS, TABLES, Row

CHUNK_ROWS = 50_000


class Sink:
    """Buffers rows per table (`rows[table].append(row)`) and writes a table's buffer once it is full."""

    timestamp_suffix = ""

    def __init__(self, chunk_rows: int = CHUNK_ROWS) -> None:
        self.rows: dict[str, list[Row]] = {table: [] for table in TABLES}
        self.counts: dict[str, int] = dict.fromkeys(TABLES, 0)
        self.chunk_rows = chunk_rows

    def pump(self) -> None:
        """Write every buffer that reached the chunk size."""
        for table, buffer in self.rows.items():
            if len(buffer) >= self.chunk_rows:
                self._ship(table)

    def flush(self) -> None:
        """Write everything still buffered and wait until it is written."""
        for table in TABLES:
            if self.rows[table]:
                self._ship(table)
        self.drain()

    def _ship(self, table: str) -> None:
        buffer = self.rows[table]
        chunk = buffer.copy()
        buffer.clear()
        self.counts[table] += len(chunk)
        self.write(table, chunk)

    def write(self, table: str, rows: list[Row]) -> None:
        raise NotImplementedError

    def drain(self) -> None:
        """Block until every chunk handed to `write` is in the database."""

    def close(self) -> None:
        """Stop any worker; safe to call twice and after a failure."""


def _insert_sql(table: str) -> str:
    columns = COLUMNS[table]
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"


class SqliteSink(Sink):
    """executemany per chunk, each chunk in its own transaction."""

    timestamp_suffix = ".000000"  # SQLAlchemy's storage format for DateTime on SQLite

    def __init__(self, conn: sqlite3.Connection, chunk_rows: int = CHUNK_ROWS) -> None:
        super().__init__(chunk_rows)
        self._conn = conn

    def write(self, table: str, rows: list[Row]) -> None:
        cursor = self._conn.cursor()
        cursor.execute("BEGIN IMMEDIATE")
        try:
            cursor.executemany(_insert_sql(table), rows)
        except BaseException:
            cursor.execute("ROLLBACK")
            raise
        cursor.execute("COMMIT")


class PgCopySink(Sink):
    """COPY chunks from a writer thread inside the caller's open transaction on `conn`."""

    timestamp_suffix = "+00"

    def __init__(self, conn: Any, chunk_rows: int = CHUNK_ROWS, depth: int = 6) -> None:
        super().__init__(chunk_rows)
        self._conn = conn
        self._queue: queue.Queue[tuple[str, list[Row]] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="erpops-seed-copy", daemon=True)
        self._thread.start()

    def write(self, table: str, rows: list[Row]) -> None:
        self._raise_failure()
        self._queue.put((table, rows))

    def drain(self) -> None:
        self._queue.join()
        self._raise_failure()

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def _raise_failure(self) -> None:
        if self._error is not None:
            raise self._error

    def _work(self) -> None:
        while True:
            job = self._queue.get()
            try:
                if job is None:
                    return
                if self._error is None:
                    self._copy(*job)
            except Exception as exc:
                self._error = exc
            finally:
                self._queue.task_done()

    def _copy(self, table: str, rows: list[Row]) -> None:
        statement = f"COPY {table} ({', '.join(COLUMNS[table])}) FROM STDIN"
        with self._conn.cursor() as cursor, cursor.copy(statement) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)
