"""Run Locust headless as subprocesses (one local process, or a master and N workers), bounded and watched.

Remote workers (`erpops loadtest worker` on other machines) join the master on its bind host and port;
the master waits a bounded time for all of them (and the local ones) before it starts, or gives up.

The harness never imports Locust: a broken locustfile is then a failed subprocess, not a crashed
harness, and gevent never patches the caller. While Locust runs, each process's CPU is sampled (a
generator over 80 % of a core measures itself, not the server) and the live statistics can stop the run
early (abort-on-fail gates) and feed a progress callback every few seconds. The hard timeout kills
whatever still runs. Every path Locust gets is absolute: it runs inside the output folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil

from loadtest.fixture import ENV as FIXTURE_ENV
from loadtest.fixture import LIVE_ENV, SHAPE_ENV, STOP_ENV, SUITE_ENV, WORKER_NAME_ENV, WORKERS_ENV, Fixture
from loadtest.metrics import GLOBAL, Stats
from loadtest.shapes import ShapeSpec
from opskit.ports import free_port
from opskit.shield import deferred_signals

HERE = Path(__file__).parent
SHAPE_FILE = HERE / "locust_shape.py"
SUITES_FILE = HERE / "locustfile.py"
SATURATED = 0.80  # of one core
STOP_GRACE_S = 15.0
LOCAL_WORKERS_WAIT_S = 30.0
GAVE_UP = "Gave up waiting for workers to connect"  # Locust's master, when --expect-workers-max-wait ends
PROGRESS_EVERY_S = 5.0


@dataclass(frozen=True)
class LocustPlan:
    """One Locust run: where, what, how shaped, how many workers, where its files go, how long at most.

    `remote_workers` are started elsewhere (`erpops loadtest worker`) and join the master on
    `master_bind_host`:`master_port` (a free loopback port when none is given); the master waits up to
    `remote_wait_s` for them before it gives up.
    """

    host: str
    out_dir: Path
    suite: str
    shape: ShapeSpec
    fixture: Fixture
    workers: int = 0
    locustfile: Path | None = None
    timeout_s: float = 120.0
    remote_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_port: int | None = None
    remote_wait_s: float = 60.0

    @property
    def distributed(self) -> bool:
        return self.workers + self.remote_workers > 0

    @property
    def workers_wait_s(self) -> float:
        """How long the master waits for all its workers before it gives up."""
        remote = self.remote_wait_s if self.remote_workers else 0.0
        return max(remote, LOCAL_WORKERS_WAIT_S if self.workers else 0.0)


@dataclass(frozen=True)
class Progress:
    """A run so far: users now, requests per second since the last report, p95 and failures since the start."""

    elapsed_s: float
    users: int
    requests: int
    failures: int
    rps: float
    p95_ms: float | None


@dataclass(frozen=True)
class ProcessCpu:
    """One generator process's CPU: its mean and peak share of one core over the run."""

    role: str
    pid: int
    cpu_s: float
    wall_s: float
    peak: float

    @property
    def mean(self) -> float:
        return self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    @property
    def saturated(self) -> bool:
        return self.mean > SATURATED


@dataclass(frozen=True)
class LocustRun:
    """What came out of Locust: exit status, whether it was killed or aborted, its files and CPU."""

    returncode: int | None
    timed_out: bool
    aborted: str | None
    stats_path: Path | None
    wall_s: float
    cpu: list[ProcessCpu] = field(default_factory=list)
    log_path: Path | None = None
    workers: list[dict[str, Any]] = field(default_factory=list)  # what each worker reported to the master
    master_port: int | None = None

    @property
    def workers_missing(self) -> bool:
        """The master gave up waiting for its workers."""
        return GAVE_UP in self.log_tail(4000)

    def log_tail(self, chars: int = 600) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]


def _env(plan: LocustPlan, live: Path, stop: Path) -> dict[str, str]:
    return {**os.environ, FIXTURE_ENV: json.dumps(plan.fixture.to_json()), SHAPE_ENV: json.dumps(plan.shape.to_json()),
            SUITE_ENV: plan.suite, LIVE_ENV: str(live), STOP_ENV: str(stop), "PYTHONUNBUFFERED": "1"}


def commands(plan: LocustPlan, master_port: int) -> list[tuple[str, list[str]]]:
    """(role, argv) of every process: `local`, or `master` and `worker-N`."""
    files = f"{SHAPE_FILE},{(plan.locustfile or SUITES_FILE).resolve()}"
    out = plan.out_dir.resolve()  # Locust runs inside it: a relative path would nest a second copy
    base = [sys.executable, "-m", "locust", "-f", files]
    reports = ["--headless", "--host", plan.host, "--only-summary", "--csv", str(out / "locust"),
               "--csv-full-history", "--html", str(out / "report.html"), "--json-file", str(out / "stats"),
               "--exit-code-on-error", "0"]
    if not plan.distributed:
        return [("local", base + reports)]
    master = base + reports + ["--master", "--master-bind-host", plan.master_bind_host,
                               "--master-bind-port", str(master_port),
                               "--expect-workers", str(plan.workers + plan.remote_workers),
                               "--expect-workers-max-wait", f"{plan.workers_wait_s:g}"]
    local = "127.0.0.1" if plan.master_bind_host in ("*", "0.0.0.0", "") else plan.master_bind_host
    worker = [*base, "--worker", "--master-host", local, "--master-port", str(master_port), "--exit-code-on-error", "0"]
    return [("master", master)] + [(f"worker-{n}", worker) for n in range(1, plan.workers + 1)]


def _workers(path: Path, local: set[str]) -> tuple[list[dict[str, Any]], list[ProcessCpu]]:
    """What the workers reported to the master, each marked remote or not, and the remote ones' CPU."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError):
        return [], []
    workers, cpu = [], []
    for w in raw if isinstance(raw, list) else []:
        name = str(w.get("name") or w.get("client_id", "?"))
        remote = name not in local
        workers.append({"name": name, "host": w.get("host"), "pid": w.get("pid"), "remote": remote,
                        "requests": int(w.get("requests", 0)), "failures": int(w.get("failures", 0))})
        if remote and "cpu_s" in w:
            cpu.append(ProcessCpu(f"remote {name}", int(w.get("pid") or 0), float(w["cpu_s"]),
                                  float(w.get("wall_s", 0.0)), round(float(w.get("peak", 0.0)), 3)))
    return workers, cpu


class _Sampler:
    """CPU seconds of each process, sampled so the last reading survives the process's exit."""

    def __init__(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        self.started = time.monotonic()
        self.handles = {role: psutil.Process(p.pid) for role, p in procs.items()}
        self.cpu = dict.fromkeys(procs, 0.0)
        self.peak = dict.fromkeys(procs, 0.0)
        self.ended: dict[str, float] = {}
        self.last = (time.monotonic(), dict(self.cpu))

    def sample(self) -> None:
        now = time.monotonic()
        for role, handle in self.handles.items():
            if role in self.ended:
                continue
            try:
                times = handle.cpu_times()
                self.cpu[role] = times.user + times.system
            except psutil.Error:
                self.ended[role] = now
        then, before = self.last
        if now - then >= 1.0:
            for role, used in self.cpu.items():
                self.peak[role] = max(self.peak[role], (used - before[role]) / (now - then))
            self.last = (now, dict(self.cpu))

    def result(self) -> list[ProcessCpu]:
        now = time.monotonic()
        return [ProcessCpu(role, h.pid, round(self.cpu[role], 3), round(self.ended.get(role, now) - self.started, 3),
                           round(self.peak[role], 3)) for role, h in self.handles.items()]


def _stop(procs: dict[str, subprocess.Popen[bytes]], sig: int) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(sig)


class _Watch:
    """Reads the master's live file once a second: feeds the abort gate and, every few seconds, the progress."""

    def __init__(self, live: Path, abort: Callable[[Stats], str | None] | None, abort_after_s: float,
                 on_progress: Callable[[Progress], None] | None, progress_every_s: float) -> None:
        self.live, self.abort, self.on_progress, self.every = live, abort, on_progress, progress_every_s
        self.started = time.monotonic()
        self.next_look = self.started + 1.0
        self.next_abort = self.started + abort_after_s
        self.next_progress = self.started + progress_every_s
        self.last = (self.started, 0)
        self.aborted: str | None = None

    def look(self, now: float) -> str | None:
        """The abort reason once a gate is breached (None before), reporting progress on the way."""
        if now < self.next_look or not self.live.exists():
            return None
        self.next_look = now + 1.0
        try:
            users, stats = Stats.load_live(self.live)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if self.on_progress is not None and now >= self.next_progress:
            self.next_progress = now + self.every
            self.on_progress(self._progress(now, users, stats))
        if self.abort is not None and self.aborted is None and now >= self.next_abort:
            self.aborted = self.abort(stats)
            return self.aborted
        return None

    def _progress(self, now: float, users: int, stats: Stats) -> Progress:
        then, before = self.last
        requests = stats.requests()
        self.last = (now, requests)
        rps = (requests - before) / (now - then) if now > then else 0.0
        return Progress(round(now - self.started, 1), users, requests, stats.failures(), round(rps, 2),
                        stats.observe(GLOBAL, "p(95)"))


def _start(plan: LocustPlan, env: dict[str, str], master_port: int, procs: dict[str, subprocess.Popen[bytes]],
           logs: list[Any]) -> None:
    out = plan.out_dir.resolve()
    for role, argv in commands(plan, master_port):
        log = (out / f"{role}.log").open("wb")
        logs.append(log)
        procs[role] = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env={**env, WORKER_NAME_ENV: role},
                                       cwd=out)


def _stop_all(procs: dict[str, subprocess.Popen[bytes]], logs: list[Any]) -> None:
    _stop(procs, signal.SIGTERM)
    for p in procs.values():
        try:
            p.wait(STOP_GRACE_S)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
    for log in logs:
        log.close()


def run_locust(plan: LocustPlan, abort: Callable[[Stats], str | None] | None = None,
               abort_after_s: float = 5.0, poll_s: float = 0.25,
               on_progress: Callable[[Progress], None] | None = None,
               progress_every_s: float = PROGRESS_EVERY_S) -> LocustRun:
    """Run `plan` to its end, its abort gate or its hard timeout; every process is stopped before returning,
    also when an exception (SIGINT, SIGTERM as `opskit.signals.Terminated`) leaves the wait."""
    out = plan.out_dir.resolve()
    out.mkdir(parents=True, exist_ok=True)
    live, stop = out / "live.json", out / "stop"
    stop.unlink(missing_ok=True)
    live.unlink(missing_ok=True)
    workers_file = out / "workers.json"
    workers_file.unlink(missing_ok=True)
    env = {**_env(plan, live, stop), WORKERS_ENV: str(workers_file)}
    master_port = plan.master_port or free_port()
    procs: dict[str, subprocess.Popen[bytes]] = {}
    logs: list[Any] = []
    started = time.monotonic()
    timed_out = False
    watch = _Watch(live, abort, abort_after_s, on_progress, progress_every_s)
    try:
        _start(plan, env, master_port, procs, logs)
        sampler = _Sampler(procs)
        lead = procs.get("local") or procs["master"]
        deadline = started + plan.timeout_s
        while lead.poll() is None:
            sampler.sample()
            now = time.monotonic()
            if now > deadline:
                timed_out = True
                break
            if watch.look(now):
                stop.touch()  # the shape ends at its next tick; Locust stops and writes its reports
                deadline = min(deadline, now + STOP_GRACE_S)
            time.sleep(poll_s)
        sampler.sample()
    finally:
        with deferred_signals():  # a second Ctrl-C or SIGTERM cannot leave a Locust process behind
            _stop_all(procs, logs)
    stats = out / "stats.json"
    lead_role = "local" if "local" in procs else "master"
    workers, remote_cpu = _workers(workers_file, set(procs))
    return LocustRun(procs[lead_role].returncode, timed_out, watch.aborted, stats if stats.exists() else None,
                     round(time.monotonic() - started, 3), sampler.result() + remote_cpu,
                     out / f"{lead_role}.log", workers, master_port if plan.distributed else None)
