"""Failover settings: `ERPOPS_FAILOVER__...` environment variables over a `[failover]` section of erpops.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from erpcore.config import SectionSettings
from failover.types import EngineName


class FailoverSettings(SectionSettings):
    """Defaults for drills and the manual runbook; every field is also a CLI option of `erpops failover`."""

    toml_table = "failover"

    model_config = SettingsConfigDict(env_prefix="ERPOPS_FAILOVER__", extra="ignore")

    engine: EngineName = EngineName.MANUAL
    clients: int = Field(4, ge=1, le=64, description="built-in writer threads")
    warmup_seconds: float = Field(1.0, ge=0, description="load before the fault, once every client has had a write acknowledged")
    settle_seconds: float = Field(1.0, ge=0, description="load after every client is back")
    recover_timeout: float = Field(60.0, gt=0)
    rejoin_timeout: float = Field(60.0, gt=0)
    rto_target: float = Field(10.0, gt=0, description="business RTO above this fails the drill")
    probe_interval: float = Field(0.1, gt=0, description="manual engine: seconds between health probes")
    probe_timeout: float = Field(0.3, gt=0, description="manual engine: a probe with no answer fails")
    failure_threshold: int = Field(3, ge=1, description="manual engine: failed probes in a row before failover")
    strict_sync: bool = Field(False, description="keep synchronous_standby_names while alone (writes wait)")
    report_dir: Path = Path("var/failover")
    lab_dir: Path | None = Field(None, description="parent directory of lab clusters (default: /tmp)")
    standby_dsn: str | None = Field(None, description="libpq DSN of the standby `erpops failover promote` "
                                    "promotes when given neither --lab nor --standby")


def load_failover_settings(**overrides: Any) -> FailoverSettings:
    """Read the effective failover settings; nothing is read at import time."""
    return FailoverSettings(**overrides)
