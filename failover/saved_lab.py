"""Labs left running between commands (`erpops failover lab up`, `status`, `down`), known by their `lab.json`.

`lab up` starts a pair and detaches it only once it is saved: a SIGTERM or Ctrl-C before that stops what was
started. `lab down` stops every server and agent by the PIDs the lab recorded, then removes the directory.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from failover.engines.base import Member
from failover.lab import Lab, PgNode, create_pair, is_postgres, make_base_dir
from failover.types import FailoverUsage


@dataclass(frozen=True)
class LabUp:
    """A lab started and left running: where its `lab.json` is, how clients reach it, its servers."""

    lab: Path
    conninfo: str
    nodes: list[dict[str, object]]


@dataclass(frozen=True)
class LabDown:
    """The PIDs stopped and the directory removed."""

    base: Path
    stopped: list[int] = field(default_factory=list)

    @property
    def reason(self) -> str:
        pids = ", ".join(map(str, self.stopped)) or "(none running)"
        return f"stopped {pids}; removed {self.base}"


def read_lab_file(path: Path) -> dict[str, Any]:
    """The `lab.json` of a lab directory (or the file itself); a missing or broken one is a usage error."""
    file = path / "lab.json" if path.is_dir() else path
    try:
        data = json.loads(file.read_text())
    except (OSError, ValueError) as exc:
        raise FailoverUsage(f"no lab at {path} ({type(exc).__name__}): pass the directory `erpops failover "
                            "lab up` printed") from exc
    if not isinstance(data, dict) or not isinstance(data.get("nodes"), list):
        raise FailoverUsage(f"{file} is not a lab description (no `nodes` list)")
    return data


def load_lab(path: Path) -> Lab:
    """A lab described by `lab.json` (written by `Lab.save`), its servers probed by port, not owned."""
    data = read_lab_file(path)
    nodes = [PgNode(str(n["name"]), int(n["port"]), Path(str(n["datadir"]))) for n in data["nodes"]]
    return Lab(Path(data["base"]), nodes)


def lab_up(parent: Path | None = None) -> LabUp:
    """Create a primary and a synchronous standby under `parent` (default /tmp), save it and leave it running."""
    if parent is not None:
        parent.mkdir(parents=True, exist_ok=True)
    lab = create_pair(make_base_dir(parent.resolve() if parent else None))
    try:
        path = lab.save()
        up = LabUp(path, lab.client_conninfo(), [n.to_dict() for n in lab.nodes])
    except BaseException:
        lab.destroy()
        raise
    lab.detach()
    return up


def lab_status(path: Path) -> list[Member]:
    """Every member's role, timeline, sync state and replay lag, as the manual engine sees them."""
    from failover.engines.manual import ManualEngine

    return ManualEngine(load_lab(path)).members()


def stop_saved_lab(path: Path, timeout: float = 30) -> LabDown:
    """Stop a saved lab's agents and postmasters by PID (`postmaster.pid`), then remove its directory."""
    data = read_lab_file(path)
    lab = load_lab(path)
    stopped = []
    for pid in data.get("agents", []):  # HA agents first (they stop their PostgreSQL), etcd last
        if psutil.pid_exists(pid):
            os.kill(pid, signal.SIGCONT)
            os.kill(pid, signal.SIGTERM)
            _wait_pid(pid, timeout)
            stopped.append(pid)
    for node in lab.nodes:
        try:
            pid = int((node.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            continue
        if not is_postgres(pid):
            continue
        os.kill(pid, signal.SIGCONT)
        os.kill(pid, signal.SIGINT)
        _wait_exit(pid, timeout)
        stopped.append(pid)
    shutil.rmtree(lab.base, ignore_errors=True)
    return LabDown(lab.base, stopped)


def _wait_pid(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while psutil.pid_exists(pid) and time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return
        except psutil.NoSuchProcess:
            return
        time.sleep(0.05)
    if psutil.pid_exists(pid):
        os.kill(pid, signal.SIGKILL)


def _wait_exit(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while is_postgres(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if is_postgres(pid):
        os.kill(pid, signal.SIGKILL)
