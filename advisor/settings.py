"""The `[advisor]` section of erpops.toml under `ERPOPS_ADVISOR__...` environment variables.

Example erpops.toml:

    [advisor]
    max_indexes = 5
    max_size_mb = 512
    min_benefit = 0.02
    lock_timeout = "5s"
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from erpcore.config import SectionSettings
from erpcore.config import config_file as use_config_file
from erpcore.exceptions import ConfigError


class AdvisorSettings(SectionSettings):
    toml_table = "advisor"
    model_config = SettingsConfigDict(env_prefix="ERPOPS_ADVISOR__", env_nested_delimiter="__", extra="forbid")

    database_url: str | None = Field(None, description="Database to analyze (default: the ERP's).")
    max_indexes: int = Field(10, ge=1, description="At most this many recommendations.")
    max_size_mb: float | None = Field(None, gt=0, description="At most this much estimated index size in total.")
    min_benefit: float = Field(0.01, ge=0, lt=1, description="Least share of the workload's cost an index saves.")
    samples: int = Field(2, ge=0, le=20, description="Representative parameter sets per statement.")
    limit_value: int = Field(20, ge=1, description="Value of `LIMIT $n` when pricing with representative values.")
    lock_timeout: str = Field("5s", description="lock_timeout of `apply` and `undo` (CREATE/DROP INDEX).")

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        from erpcore.config import load_settings

        return load_settings().database_url


def load_advisor_settings(config_file: Path | None = None, **overrides: Any) -> AdvisorSettings:
    """Read the effective advisor configuration; `config_file` replaces ERPOPS_CONFIG for this call."""
    try:
        with use_config_file(config_file):
            return AdvisorSettings(**{k: v for k, v in overrides.items() if v is not None})
    except ValueError as exc:
        raise ConfigError(f"invalid advisor configuration: {exc}") from exc
