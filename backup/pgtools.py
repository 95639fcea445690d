"""PostgreSQL client tools: where they are, how to reach a server, and the base backup as a byte stream."""

from __future__ import annotations

import os
import re
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

from backup.errors import BackupError

CHUNK = 1 << 20
SEGMENT_SIZE = 16 << 20
COMPRESS_FLAG = {"zstd": "server-zstd", "lz4": "server-lz4", "none": "none"}
SUFFIX = {"zstd": ".zst", "lz4": ".lz4", "none": ""}
DECOMPRESS = {"zstd": ["zstd", "-dcq"], "lz4": ["lz4", "-dcq"]}


@dataclass(frozen=True)
class Conn:
    """libpq connection arguments and environment from a SQLAlchemy URL."""

    args: tuple[str, ...]
    env: dict[str, str]
    dbname: str


def conn_from_url(url: str) -> Conn:
    parsed = make_url(url)
    args: list[str] = []
    if parsed.host:
        args += ["-h", parsed.host]
    if parsed.port:
        args += ["-p", str(parsed.port)]
    if parsed.username:
        args += ["-U", parsed.username]
    env = dict(os.environ)
    if parsed.password:
        env["PGPASSWORD"] = str(parsed.password)
    return Conn(tuple(args), env, parsed.database or "postgres")


def lsn_to_int(lsn: str) -> int:
    hi, lo = lsn.split("/")
    return (int(hi, 16) << 32) | int(lo, 16)


def segment_name(lsn: str, timeline: int, segment_size: int = SEGMENT_SIZE) -> str:
    """The WAL file that holds `lsn` on `timeline`, e.g. 000000010000000000000002."""
    pos = lsn_to_int(lsn)
    per_id = 0x100000000 // segment_size
    segno = pos // segment_size
    return f"{timeline:08X}{segno // per_id:08X}{segno % per_id:08X}"


def segment_number(name: str, segment_size: int = SEGMENT_SIZE) -> int:
    per_id = 0x100000000 // segment_size
    return int(name[8:16], 16) * per_id + int(name[16:24], 16)


_START = re.compile(r"write-ahead log start point: (\S+) on timeline (\d+)")
_END = re.compile(r"write-ahead log end point: (\S+)")


class BaseBackupStream:
    """`pg_basebackup` in tar format on stdout with server-side compression; WAL to consistency included.

    Iterate `chunks()` to consume the backup; afterwards `start_lsn`, `end_lsn` and `timeline` are set.
    """

    def __init__(self, url: str, compression: str, bin_dir: Path, label: str) -> None:
        conn = conn_from_url(url)
        self.command = [
            str(bin_dir / "pg_basebackup"),
            *conn.args,
            "-D",
            "-",
            "-Ft",
            "-X",
            "fetch",
            "--no-manifest",
            f"--compress={COMPRESS_FLAG[compression]}",
            "--checkpoint=fast",
            "-v",
            "-l",
            label,
        ]
        self.env = conn.env
        self.start_lsn = ""
        self.end_lsn = ""
        self.timeline = 0
        self._stderr: list[str] = []

    def chunks(self) -> Iterator[bytes]:
        proc = subprocess.Popen(self.command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=self.env)
        assert proc.stdout is not None and proc.stderr is not None
        err_stream = proc.stderr
        reader = threading.Thread(target=lambda: self._stderr.extend(err_stream.read().decode().splitlines()))
        reader.start()
        try:
            while chunk := proc.stdout.read(CHUNK):
                yield chunk
        finally:
            proc.stdout.close()
            code = proc.wait()
            reader.join()
            err_stream.close()
        if code != 0:
            raise BackupError(f"pg_basebackup failed (exit {code}): {' '.join(self._stderr[-3:])}")
        self._parse()

    def _parse(self) -> None:
        text = "\n".join(self._stderr)
        start, end = _START.search(text), _END.search(text)
        if not start or not end:
            raise BackupError(f"pg_basebackup did not report its WAL start and end points: {text[-300:]}")
        self.start_lsn, self.timeline, self.end_lsn = start.group(1), int(start.group(2)), end.group(1)
