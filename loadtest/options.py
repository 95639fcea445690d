"""What `erpops loadtest run` asks for, resolved: profile and defaults applied, choices checked, paths absolute.

Everything here fails before any work starts, with a `ConfigError` (exit 2) that names the bad option.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from erpcore.exceptions import ConfigError
from loadtest.shapes import ShapeKind, ShapeSpec, build, parse_duration

SUITES = ("o2c", "p2p", "browse", "reports", "day", "month-end", "production")
SHAPES = tuple(kind.value for kind in ShapeKind)
CI_SLO = """\
# The CI profile's gates: generous latency on a shared 2-core runner, strict on errors and content.
thresholds:
  global:
    - p(95) < 2000
    - rate(errors) < 0.01
    - rate(checks) > 0.99
  order_to_cash:
    - p(95) < 10000
"""
PROFILES: dict[str, dict[str, Any]] = {
    "ci": {"suite": "day", "shape": "ramp", "users": 6, "run_time": "40s", "slo_text": CI_SLO},
}
DEFAULTS: dict[str, Any] = {"suite": "o2c", "shape": "ramp", "users": 10, "run_time": "60s", "slo_text": None}
DEFAULT_MASTER_PORT = 5557  # Locust's
OUT_ROOT = Path("var/loadtest")


@dataclass(frozen=True)
class RunOptions:
    """A run, resolved: what `loadtest.harness.run` executes. `out_dir` is absolute."""

    suite: str
    shape: ShapeSpec
    out_dir: Path
    slo_path: Path | None = None
    host: str | None = None
    token: str | None = None
    database_url: str | None = None
    workers: int = 0
    locustfile: Path | None = None
    inject_errors: float = 0.0
    baseline: Path | None = None
    timeout_s: float | None = None
    remote_workers: int = 0
    master_bind_host: str = "127.0.0.1"
    master_port: int | None = None
    remote_wait_s: float = 60.0
    slo_text: str | None = None  # a built-in SLO (the ci profile's), used when no --slo is given

    @property
    def hard_timeout_s(self) -> float:
        remote = self.remote_wait_s if self.remote_workers else 0.0
        return self.timeout_s or self.shape.run_time_s + 60.0 + 10 * self.workers + remote


def default_out_dir(root: Path = OUT_ROOT, now: dt.datetime | None = None) -> Path:
    """`var/loadtest/<time>` under the current directory, absolute; `-2`, `-3`... if that folder exists."""
    base = (root / (now or dt.datetime.now()).strftime("%Y%m%d-%H%M%S")).resolve()
    candidate, n = base, 1
    while candidate.exists():
        n += 1
        candidate = base.with_name(f"{base.name}-{n}")
    return candidate


def _pick(name: str, given: Any, profile: str | None) -> Any:
    if given is not None:
        return given
    if profile is not None and name in PROFILES[profile]:
        return PROFILES[profile][name]
    return DEFAULTS[name]


def _absolute(path: Path | None) -> Path | None:
    return None if path is None else path.resolve()


def resolve(*, suite: str | None = None, shape: str | None = None, users: int | None = None,
            run_time: str | None = None, profile: str | None = None, out: Path | None = None,
            slo: Path | None = None, locustfile: Path | None = None, baseline: Path | None = None,
            workers: int = 0, remote_workers: int = 0, master_bind_host: str | None = None,
            master_port: int | None = None, steps: int = 4, rate: float = 0.0, pace: float = 1.0,
            **rest: Any) -> RunOptions:
    """The run's options from the command line's; `rest` are RunOptions fields passed through unchanged."""
    if profile is not None and profile not in PROFILES:
        raise ConfigError(f"--profile: unknown profile {profile!r}; one of: {', '.join(PROFILES)}")
    chosen_suite, chosen_shape = _pick("suite", suite, profile), _pick("shape", shape, profile)
    if chosen_suite not in SUITES and locustfile is None:
        raise ConfigError(f"--suite: unknown suite {chosen_suite!r}; one of: {', '.join(SUITES)}")
    if chosen_shape not in SHAPES:
        raise ConfigError(f"--shape: unknown shape {chosen_shape!r}; one of: {', '.join(SHAPES)}")
    if (master_bind_host is not None or master_port is not None) and workers + remote_workers == 0:
        raise ConfigError("--master-bind-host and --master-port need --workers or --remote-workers")
    if locustfile is not None and not locustfile.is_file():
        raise ConfigError(f"--locustfile: no file at {locustfile}")
    if slo is not None and not slo.is_file():
        raise ConfigError(f"--slo: no file at {slo}; start from the example loadtest/slo.yaml")
    if master_port is None and remote_workers:
        master_port = DEFAULT_MASTER_PORT
    spec = ShapeSpec(ShapeKind(chosen_shape), _pick("users", users, profile),
                     parse_duration(_pick("run_time", run_time, profile)), steps, rate, pace)
    build(spec)
    return RunOptions(chosen_suite, spec, out.resolve() if out is not None else default_out_dir(),
                      _absolute(slo), workers=workers, locustfile=_absolute(locustfile), baseline=_absolute(baseline),
                      remote_workers=remote_workers, master_bind_host=master_bind_host or "127.0.0.1",
                      master_port=master_port, slo_text=None if slo else _pick("slo_text", None, profile), **rest)
