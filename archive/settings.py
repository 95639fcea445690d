"""Archive configuration: the `[archive]` section of erpops.toml under `ERPOPS_ARCHIVE__...` env variables.

Example erpops.toml:

    [archive]
    destination_url = "sqlite:////var/lib/erpops/archive.sqlite"
    closed_through = "2023-12-31"      # used while erpcore has no fiscal_period table
    batch_size = 10000                 # documents per batch, at most
    batch_seconds = 0.25               # each batch sized to hold its locks about this long
    [archive.policies.sales_orders]
    residence_years = 3
    [archive.parquet]
    path = "/mnt/archive/parquet"      # or kind = "s3" with bucket/endpoint_url
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import SettingsConfigDict

from erpcore.config import SectionSettings
from erpcore.config import config_file as use_config_file
from erpcore.exceptions import ConfigError

DEFAULT_RESIDENCE_YEARS = 3.0


class PolicySettings(BaseModel):
    """How long one document family stays in production after its closing date."""

    residence_years: float = Field(DEFAULT_RESIDENCE_YEARS, gt=0)
    enabled: bool = True


class ParquetSettings(BaseModel):
    """Where the compressed Parquet copy of each batch goes: a local path or an S3-compatible bucket."""

    kind: Literal["local", "s3"] = "local"
    path: Path | None = None
    bucket: str | None = None
    prefix: str = "erpops-archive"
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    verify_tls: bool = True
    compression: Literal["zstd", "snappy", "gzip", "none"] = "zstd"


class ArchiveSettings(SectionSettings):
    toml_table = "archive"
    model_config = SettingsConfigDict(env_prefix="ERPOPS_ARCHIVE__", env_nested_delimiter="__", extra="ignore")

    database_url: str | None = None
    destination_url: str | None = None
    parquet: ParquetSettings | None = None
    # The last day of the last closed fiscal period, used while the schema has no `fiscal_period` table.
    # None (the default) means: the end of the year before last, which no auditor still has open.
    closed_through: dt.date | None = None
    policies: dict[str, PolicySettings] = Field(default_factory=dict)
    # Documents per batch, at most: a ceiling the time bound below stays under. (2000 held ledger batches to
    # 50 ms, each with its own carry-forward of every balance it touched: 0.78x the single statement at the
    # issue's size, 0.83x with 10000.)
    batch_size: int = Field(10_000, ge=1, le=100_000)
    # Time-bounded batches: sizes adapt so that a batch (and the row locks it holds) lasts about this long;
    # 0: every batch takes `batch_size` documents.
    batch_seconds: float = Field(0.25, ge=0)
    sleep_seconds: float = Field(0.0, ge=0)
    max_rows_per_second: float = Field(0.0, ge=0)  # 0: no cap
    lock_timeout_ms: int = Field(200, ge=1)
    # With the destination in another schema of the source's PostgreSQL database, batches move inside the
    # server (one INSERT ... DELETE ... RETURNING per table, hashed in SQL); off: rows go through Python.
    server_side: bool = True
    # A server-side batch as ONE call of a PL/pgSQL function the run creates in the archive schema (one round
    # trip, its own transaction: `archive.sqlbatch`); off: its statements are sent one by one.
    server_function: bool = True
    # The hash a server-side batch records: "record" (PostgreSQL's record hash, cheap) or "canonical" (the
    # SHA-256 of the canonical lines, as the Python path and the Parquet copies record it).
    server_hash: Literal["record", "canonical"] = "record"
    max_replica_lag_seconds: float = Field(30.0, gt=0)
    backlog_alert_documents: int = Field(1000, ge=1)

    def policy(self, family: str) -> PolicySettings:
        return self.policies.get(family, PolicySettings(residence_years=DEFAULT_RESIDENCE_YEARS))

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        from erpcore.config import load_settings

        return load_settings().database_url


def load_archive_settings(config_file: Path | None = None, **overrides: Any) -> ArchiveSettings:
    """Read the effective archive configuration; `config_file` replaces ERPOPS_CONFIG for this call."""
    try:
        with use_config_file(config_file):
            return ArchiveSettings(**overrides)
    except ValueError as exc:
        raise ConfigError(f"invalid archive configuration: {exc}") from exc
