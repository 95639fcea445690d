"""HA engines behind one interface (`HaEngine`), built by name from the failover settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from failover.engines.base import Decision, HaEngine, Member, RejoinResult
from failover.types import EngineName, FailoverFailed

if TYPE_CHECKING:
    from failover.settings import FailoverSettings

__all__ = ["Decision", "HaEngine", "Member", "RejoinResult", "build_engine"]


def build_engine(engine: EngineName, settings: FailoverSettings, skip_checkpoint: bool = False) -> HaEngine:
    """The HA engine named by `engine`, with a fresh loopback lab of its own (the engine owns and stops it)."""
    from failover.lab import make_base_dir

    if engine is EngineName.MANUAL:
        from failover.engines.manual import ManualEngine, ManualPolicy
        from failover.lab import create_pair

        policy = ManualPolicy(settings.probe_interval, settings.probe_timeout, settings.failure_threshold,
                              not skip_checkpoint, settings.strict_sync)
        return ManualEngine(create_pair(make_base_dir(settings.lab_dir)), policy)
    if engine is EngineName.PATRONI:
        from failover.engines.patroni import PatroniEngine
        from failover.patroni_lab import create_patroni_lab

        return PatroniEngine(create_patroni_lab(base=make_base_dir(settings.lab_dir)))
    if engine is EngineName.PG_AUTO_FAILOVER:
        from failover.autofailover_lab import create_autofailover_lab
        from failover.engines.pg_auto_failover import AutoFailoverEngine

        return AutoFailoverEngine(create_autofailover_lab(tuned=True, base=make_base_dir(settings.lab_dir)))
    raise FailoverFailed(f"no engine named {engine}")
