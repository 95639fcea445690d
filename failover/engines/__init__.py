"""HA engines behind one interface (`HaEngine`), built by name from the failover settings."""

from __future__ import annotations

from failover.engines.base import Decision, HaEngine, Member, RejoinResult

__all__ = ["Decision", "HaEngine", "Member", "RejoinResult"]
