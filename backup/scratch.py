"""Scratch space a command makes for itself (a temp directory, throw-away clusters in it), gone on any exit.

Clean-up runs in `finally`, so a failure, Ctrl-C (KeyboardInterrupt) and SIGTERM (`opskit.signals.Terminated`,
raised by the root CLI) all leave nothing behind, even while a child process (pg_ctl, pg_basebackup, zstd)
runs. A second signal during clean-up waits until it is done (`opskit.shield`).
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backup.errors import UsageError
from opskit.pg import Cluster
from opskit.shield import deferred_signals


def check_parent(parent: Path | None, option: str = "--scratch") -> None:
    """Refuse a scratch parent that is not an existing, writable directory (before anything starts)."""
    if parent is None:
        return
    if not parent.is_dir():
        raise UsageError(
            f"{option} {parent}: no such directory; create it, or leave {option} out to use {tempfile.gettempdir()}"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"{option} {parent}: not writable by this user; choose a directory you can write to")


@contextmanager
def scratch_dir(prefix: str, parent: Path | None = None) -> Iterator[Path]:
    """A new directory under `parent` (default: the temp dir), traversable by the server user; removed after."""
    check_parent(parent)
    path: Path | None = None
    try:
        with deferred_signals():  # a signal right after mkdtemp must not leave the new directory unnamed
            path = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
        path.chmod(0o755)
        yield path
    finally:
        if path is not None:
            with deferred_signals():
                shutil.rmtree(path, ignore_errors=True)


@contextmanager
def scratch_cluster(data_dir: Path, bin_dir: Path | None = None) -> Iterator[Cluster]:
    """A throw-away cluster on `data_dir`: stopped, its processes reaped and its files deleted after the block."""
    cluster = Cluster(data_dir, bin_dir=bin_dir)
    try:
        yield cluster
    finally:
        with deferred_signals():
            remove_cluster(cluster)


def remove_cluster(cluster: Cluster) -> None:
    """Stop the server (also one still starting, before its postmaster.pid exists) and delete its files."""
    cluster.remove()
    reap(cluster.data_dir)
    shutil.rmtree(cluster.data_dir, ignore_errors=True)


def processes_of(data_dir: Path) -> list[int]:
    """PIDs whose command line names `data_dir` (a postmaster, pg_ctl or restore child working on it)."""
    needle = str(data_dir).encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(arg == needle or arg.startswith(needle + b"/") for arg in argv) and running(int(entry.name)):
            found.append(int(entry.name))
    return found


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie (a zombie has exited; only its parent's wait is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[:1] != ["Z"]


def reap(data_dir: Path, wait_s: float = 10.0) -> list[int]:
    """SIGQUIT (PostgreSQL's immediate shutdown), then SIGKILL, every process still working on `data_dir`."""
    pids = processes_of(data_dir)
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                continue
        deadline = time.monotonic() + wait_s / 2
        while any(running(p) for p in pids) and time.monotonic() < deadline:
            time.sleep(0.05)
        pids = [p for p in pids if running(p)]
        if not pids:
            break
    return pids
