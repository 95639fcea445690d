"""HA engines behind one interface (`HaEngine`), built by name from the failover settings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from failover.engines.base import Decision, HaEngine, Member, RejoinResult
from failover.types import EngineName, FailoverUsage

if TYPE_CHECKING:
    from failover.settings import FailoverSettings

__all__ = ["ENGINES", "Decision", "HaEngine", "Member", "RejoinResult", "build_engine"]


def _manual(settings: FailoverSettings, skip_checkpoint: bool, base: Path) -> HaEngine:
    from failover.engines.manual import ManualEngine, ManualPolicy
    from failover.lab import create_pair

    policy = ManualPolicy(settings.probe_interval, settings.probe_timeout, settings.failure_threshold,
                          not skip_checkpoint, settings.strict_sync)
    return ManualEngine(create_pair(base), policy)


def _patroni(settings: FailoverSettings, skip_checkpoint: bool, base: Path) -> HaEngine:
    from failover.engines.patroni import PatroniEngine
    from failover.patroni_lab import create_patroni_lab

    return PatroniEngine(create_patroni_lab(base=base))


def _pg_auto_failover(settings: FailoverSettings, skip_checkpoint: bool, base: Path) -> HaEngine:
    from failover.autofailover_lab import create_autofailover_lab
    from failover.engines.pg_auto_failover import AutoFailoverEngine

    return AutoFailoverEngine(create_autofailover_lab(tuned=True, base=base))


# The engines by name; each builder starts a fresh lab in the directory it is given.
ENGINES: dict[EngineName, Callable[[FailoverSettings, bool, Path], HaEngine]] = {
    EngineName.MANUAL: _manual,
    EngineName.PATRONI: _patroni,
    EngineName.PG_AUTO_FAILOVER: _pg_auto_failover,
}


def build_engine(engine: EngineName, settings: FailoverSettings, skip_checkpoint: bool = False,
                 base: Path | None = None) -> HaEngine:
    """The HA engine named by `engine`, with a fresh loopback lab of its own in `base` (default: a new
    directory under the configured `lab_dir`); the engine owns the lab and stops it on `close`."""
    from failover.lab import make_base_dir

    builder = ENGINES.get(engine)
    if builder is None:
        raise FailoverUsage(f"no engine named {engine}; choose one of: {', '.join(ENGINES)}")
    return builder(settings, skip_checkpoint, base or make_base_dir(settings.lab_dir))
