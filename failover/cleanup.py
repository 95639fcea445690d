"""A drill's clean-up: everything it started is gone when it ends, by success, failure, SIGTERM or Ctrl-C.

`LabGuard` owns a lab directory and the engine built in it. On leaving its block it closes the engine (each
engine stops its own processes by PID and lifts its isolation) with SIGINT/SIGTERM held back, then sweeps
what a close cannot know of: a server started but not yet handed to the engine, a `pg_basebackup` or
`initdb` whose `runuser` parent was killed, the API process of an interrupted start. A stray is a process
this one started since the block began, or any process naming the lab directory on its command line
(postmasters, Patroni, etcd, pg_autoctl and the tools they run); each is killed with its children.
"""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path
from types import TracebackType
from typing import Self

import psutil

from failover import isolation
from failover.engines.base import HaEngine
from failover.lab import make_base_dir
from failover.types import Progress
from opskit.shield import deferred_signals


def _quiet(message: str) -> None:
    return None


class LabGuard:
    """The lab directory of one drill campaign and the engine running in it; see the module docstring."""

    def __init__(self, parent: Path | None = None, progress: Progress = _quiet) -> None:
        self.parent = parent
        self.progress = progress
        self.engine: HaEngine | None = None
        self.base = Path()
        self.swept: list[str] = []
        self._before: set[int] = set()

    def __enter__(self) -> Self:
        self._before = {p.pid for p in _descendants()}
        self.base = make_base_dir(self.parent)
        return self

    def adopt(self, engine: HaEngine) -> HaEngine:
        """Make `engine` the one closed on exit; returns it."""
        self.engine = engine
        return engine

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        with deferred_signals():
            self.close()

    def close(self) -> list[str]:
        """Close the engine, then kill strays, lift this process's tables and remove the directory.

        Returns what the sweep had to do beyond the engine's own close, one sentence each (empty when the
        engine left nothing behind), and tells `progress` of each.
        """
        engine, self.engine = self.engine, None
        if engine is not None:
            try:
                engine.close()
            except Exception as exc:
                self._note(f"engine close failed ({type(exc).__name__}: {exc}); sweeping its processes")
        for stray in _kill_strays(self.base, self._before):
            self._note(f"killed {stray} (left running)")
        for table in isolation.lift_own():
            self._note(f"lifted nftables table {table} (left in force)")
        if self.base != Path() and self.base.exists():
            shutil.rmtree(self.base, ignore_errors=True)
        return self.swept

    def _note(self, sentence: str) -> None:
        self.swept.append(sentence)
        self.progress(f"clean-up: {sentence}")


def _descendants() -> list[psutil.Process]:
    try:
        return list(psutil.Process().children(recursive=True))
    except psutil.Error:
        return []


def _names_dir(proc: psutil.Process, base: str) -> bool:
    try:
        return any(base in arg for arg in proc.cmdline())
    except psutil.Error:
        return False


def _kill_strays(base: Path, before: set[int]) -> list[str]:
    """Kill (SIGCONT, SIGKILL) the processes of the lab still alive; returns `name pid N` of each."""
    found = {p.pid: p for p in _descendants() if p.pid not in before}
    if base != Path():
        found |= {p.pid: p for p in psutil.process_iter() if p.pid != os.getpid() and _names_dir(p, str(base))}
    for proc in list(found.values()):
        try:
            found |= {c.pid: c for c in proc.children(recursive=True)}
        except psutil.Error:
            continue
    alive = [p for p in found.values() if _running(p)]
    names = [f"{_name(p)} pid {p.pid}" for p in alive]
    for proc in alive:
        for sig in (signal.SIGCONT, signal.SIGKILL):
            try:
                proc.send_signal(sig)
            except psutil.Error:
                break
    psutil.wait_procs(alive, timeout=10)
    return names


def _name(proc: psutil.Process) -> str:
    try:
        return proc.name()
    except psutil.Error:
        return "process"


def _running(proc: psutil.Process) -> bool:
    try:
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False
