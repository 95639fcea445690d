"""Continuous WAL shipping with `pg_receivewal`: stream into a local spool, push each finished file to every site.

Streaming needs no archive_command, so the server's OS user never runs erpops; a replication slot
keeps the server from recycling WAL the streamer has not received yet.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from backup.errors import BackupError
from backup.pgtools import conn_from_url
from backup.sites.base import Site
from backup.walarchive import WalPushResult, ship
from opskit.pg import pg_bin_dir

FINISHED = re.compile(r"^([0-9A-F]{24}|[0-9A-F]{8}\.history)$")


@dataclass
class StreamStats:
    pushed: list[str] = field(default_factory=list)
    degraded: list[WalPushResult] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stopped_by: str = ""

    @property
    def reason(self) -> str:
        text = (
            f"pushed {len(self.pushed)} WAL files, {len(self.degraded)} degraded, {len(self.errors)} errors"
        )
        text += f"; stopped: {self.stopped_by}" if self.stopped_by else ""
        return text + (f"; last error: {self.errors[-1]}" if self.errors else "")


def stream(
    url: str,
    sites: Sequence[Site],
    spool: Path,
    key: bytes | None,
    slot: str = "erpops_backup",
    bin_dir: Path | None = None,
    seconds: float = 0,
) -> StreamStats:
    """Stream and push WAL for `seconds` (0: until SIGINT or SIGTERM, the normal way to stop it) or until
    pg_receivewal exits; pg_receivewal is stopped and the last finished files pushed on every way out."""
    from opskit.signals import Terminated

    streamer = WalStreamer(url, sites, spool, key, slot, bin_dir)
    try:
        # inside the try: a SIGTERM while it starts (pg_receivewal already running, its pusher not yet) is the
        # normal stop too, not an error that leaves them behind (a loaded machine delivered one there)
        streamer.start()
        began = time.monotonic()  # `seconds` of streaming, the start not counted
        while not seconds or time.monotonic() - began < seconds:
            if streamer.proc is not None and streamer.proc.poll() is not None:
                streamer.stats.stopped_by = (
                    f"pg_receivewal exited {streamer.proc.returncode}: {streamer.log_tail()}"
                )
                streamer.stats.errors.append(streamer.stats.stopped_by)
                break
            time.sleep(0.5)
        else:
            streamer.stats.stopped_by = f"after {seconds:g} s as asked"
    except (KeyboardInterrupt, Terminated) as exc:
        streamer.stats.stopped_by = "SIGINT" if isinstance(exc, KeyboardInterrupt) else "SIGTERM"
    finally:
        streamer.stop()
    return streamer.stats


class WalStreamer:
    """`pg_receivewal` into `spool` plus a pusher thread; `start`, then `stop` (always, e.g. in finally)."""

    def __init__(
        self,
        url: str,
        sites: Sequence[Site],
        spool: Path,
        key: bytes | None = None,
        slot: str = "erpops_backup",
        bin_dir: Path | None = None,
        poll_seconds: float = 0.2,
    ) -> None:
        self.url, self.sites, self.spool, self.key, self.slot = url, list(sites), spool, key, slot
        self.bin_dir = pg_bin_dir(bin_dir)
        self.poll = poll_seconds
        self.stats = StreamStats()
        self.proc: subprocess.Popen[bytes] | None = None
        self.log: BinaryIO | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _command(self, *extra: str) -> list[str]:
        conn = conn_from_url(self.url)
        return [
            str(self.bin_dir / "pg_receivewal"),
            *conn.args,
            "-D",
            str(self.spool),
            "--slot",
            self.slot,
            *extra,
        ]

    def start(self) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        env = conn_from_url(self.url).env
        self._reserve_slot()
        # Without --no-loop, pg_receivewal reconnects after a dropped connection and resumes from the slot.
        self.log = self.spool.with_name(self.spool.name + ".log").open("ab")
        self.proc = subprocess.Popen(self._command(), env=env, stdout=subprocess.DEVNULL, stderr=self.log)
        self._thread = threading.Thread(target=self._run, name="wal-pusher", daemon=True)
        self._thread.start()

    def _reserve_slot(self) -> None:
        """Create the slot holding WAL from now on, before `start` returns.

        `pg_receivewal --create-slot` makes a slot that reserves nothing until pg_receivewal first streams;
        a checkpoint in between (a base backup forces one) can recycle the segment it is about to ask for,
        and it then retries that removed segment forever.
        """
        import psycopg
        from sqlalchemy.engine import make_url

        dsn = make_url(self.url).set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
                conn.execute(
                    "SELECT pg_create_physical_replication_slot(%s, true) WHERE NOT EXISTS "
                    "(SELECT 1 FROM pg_replication_slots WHERE slot_name = %s)",
                    (self.slot, self.slot),
                )
        except psycopg.Error as exc:
            raise BackupError(f"cannot create replication slot {self.slot}: {exc}") from exc

    def _run(self) -> None:
        while not self._stop.is_set():
            self.push_finished()
            self._stop.wait(self.poll)
        self.push_finished()

    def push_finished(self) -> list[str]:
        """Push every finished WAL file in the spool (oldest first), then drop it from the spool."""
        done = []
        for path in sorted(p for p in self.spool.iterdir() if FINISHED.match(p.name)):
            try:
                result = ship(self.sites, path, self.key)
            except BackupError as exc:
                self.stats.errors.append(exc.message)
                break
            if result.failed:
                self.stats.degraded.append(result)
            self.stats.pushed.append(path.name)
            done.append(path.name)
            path.unlink()
        return done

    def wait_for(self, segment: str, timeout: float = 60) -> None:
        """Block until `segment` has been pushed (for tests and `--until`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if segment in self.stats.pushed:
                return
            if self.proc is not None and self.proc.poll() is not None:
                raise BackupError(f"pg_receivewal exited {self.proc.returncode}: {self.log_tail()}")
            time.sleep(0.05)
        raise BackupError(
            f"WAL {segment} not shipped within {timeout}s (errors: {self.stats.errors[-3:]}; {self.log_tail()})"
        )

    def log_tail(self) -> str:
        path = self.spool.with_name(self.spool.name + ".log")
        try:
            return " | ".join(path.read_text(errors="replace").strip().splitlines()[-4:])
        except OSError:
            return "(no log)"

    def stop(self, drop_slot: bool = False) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.log is not None:
            self.log.close()
        self._stop.set()
        if self._thread is not None:
            self._thread.join(30)
        if drop_slot:
            subprocess.run(
                self._command("--drop-slot"),
                check=False,
                capture_output=True,
                env=conn_from_url(self.url).env,
                timeout=30,
            )
