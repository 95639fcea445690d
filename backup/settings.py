"""Backup configuration: the `[backup]` section of erpops.toml under `ERPOPS_BACKUP__...` env variables.

Example erpops.toml:

    [backup]
    compression = "zstd"
    [[backup.sites]]
    name = "nas"
    kind = "local"
    path = "/mnt/nas/erpops"
    [[backup.sites]]
    name = "offsite"
    kind = "s3"
    bucket = "erp-backups"
    endpoint_url = "https://s3.example.net"
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import SettingsConfigDict

from erpcore.config import SectionSettings
from erpcore.config import config_file as use_config_file
from erpcore.exceptions import ConfigError

SiteKind = Literal["local", "s3", "memory"]
Compression = Literal["zstd", "lz4", "none"]


class RetentionSettings(BaseModel):
    """Keep the newest `keep_count` backups and every backup younger than `keep_days`."""

    keep_count: int = Field(2, ge=1)
    keep_days: float = Field(7.0, ge=0)


class SiteSettings(BaseModel):
    """One place backups are written to: a local or mounted path, or an S3-compatible bucket."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]+$")
    kind: SiteKind = "local"
    path: Path | None = None
    endpoint_url: str | None = None
    bucket: str | None = None
    prefix: str = ""
    region: str = "us-east-1"
    access_key_id: str | None = None
    secret_access_key: SecretStr | None = None
    part_size_mb: int = Field(16, ge=5)
    concurrency: int = Field(4, ge=1)
    max_attempts: int = Field(5, ge=1)
    timeout_seconds: float = 60.0
    verify_tls: bool = True
    retention: RetentionSettings | None = None

    @model_validator(mode="after")
    def _check_kind(self) -> SiteSettings:
        if self.kind == "local" and self.path is None:
            raise ValueError(f"site {self.name}: a local site needs `path`")
        if self.kind == "s3" and not self.bucket:
            raise ValueError(f"site {self.name}: an s3 site needs `bucket`")
        return self


class BackupSettings(SectionSettings):
    toml_table = "backup"
    model_config = SettingsConfigDict(env_prefix="ERPOPS_BACKUP__", env_nested_delimiter="__", extra="ignore")

    database_url: str | None = None
    sites: list[SiteSettings] = Field(default_factory=list)
    compression: Compression = "zstd"
    encryption_key: SecretStr | None = None
    pg_bin_dir: Path | None = None
    retention: RetentionSettings = Field(
        default_factory=lambda: RetentionSettings(keep_count=2, keep_days=7.0)
    )
    restore_concurrency: int = Field(4, ge=1)
    dump_jobs: int = Field(2, ge=1)

    def key_bytes(self) -> bytes | None:
        """The 32-byte AES key from `encryption_key` (base64 or hex), or None when encryption is off."""
        if self.encryption_key is None:
            return None
        return parse_key(self.encryption_key.get_secret_value())

    def site(self, name: str) -> SiteSettings:
        for site in self.sites:
            if site.name == name:
                return site
        raise ConfigError(
            f"no backup site named {name!r} (configured: {', '.join(s.name for s in self.sites)})"
        )

    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        from erpcore.config import load_settings

        return load_settings().database_url


def parse_key(text: str) -> bytes:
    """Decode a 256-bit key written as 64 hex digits or base64."""
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise ConfigError("backup encryption_key must be 32 bytes as 64 hex digits or base64") from exc
    if len(key) != 32:
        raise ConfigError(f"backup encryption_key must be 32 bytes (AES-256), got {len(key)}")
    return key


def load_backup_settings(config_file: Path | None = None, **overrides: Any) -> BackupSettings:
    """Read the effective backup configuration; `config_file` replaces ERPOPS_CONFIG for this call."""
    try:
        with use_config_file(config_file):
            settings = BackupSettings(**overrides)
    except ValueError as exc:
        raise ConfigError(f"invalid backup configuration: {exc}") from exc
    names = [s.name for s in settings.sites]
    if len(names) != len(set(names)):
        raise ConfigError(f"backup site names must be unique: {names}")
    return settings
