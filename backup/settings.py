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
import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from erpcore.exceptions import ConfigError

SiteKind = Literal["local", "s3", "memory"]
Compression = Literal["zstd", "lz4", "none"]

_CONFIG_FILE: ContextVar[Path | None] = ContextVar("backup_config_file", default=None)


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


class _TomlSection(PydanticBaseSettingsSource):
    """The `[backup]` table of the configuration file (ERPOPS_CONFIG, default erpops.toml)."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        path = _CONFIG_FILE.get() or Path(os.environ.get("ERPOPS_CONFIG", "erpops.toml"))
        if not path.is_file():
            return {}
        with path.open("rb") as fh:
            section = tomllib.load(fh).get("backup", {})
        return dict(section) if isinstance(section, dict) else {}


class BackupSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ERPOPS_BACKUP__", env_nested_delimiter="__", extra="ignore")

    database_url: str | None = None
    sites: list[SiteSettings] = []
    compression: Compression = "zstd"
    encryption_key: SecretStr | None = None
    pg_bin_dir: Path | None = None
    retention: RetentionSettings = Field(default_factory=lambda: RetentionSettings(keep_count=2, keep_days=7.0))
    restore_concurrency: int = Field(4, ge=1)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlSection(settings_cls))

    def key_bytes(self) -> bytes | None:
        """The 32-byte AES key from `encryption_key` (base64 or hex), or None when encryption is off."""
        if self.encryption_key is None:
            return None
        return parse_key(self.encryption_key.get_secret_value())

    def site(self, name: str) -> SiteSettings:
        for site in self.sites:
            if site.name == name:
                return site
        raise ConfigError(f"no backup site named {name!r} (configured: {', '.join(s.name for s in self.sites)})")

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
    token = _CONFIG_FILE.set(config_file)
    try:
        settings = BackupSettings(**overrides)
    except ValueError as exc:
        raise ConfigError(f"invalid backup configuration: {exc}") from exc
    finally:
        _CONFIG_FILE.reset(token)
    names = [s.name for s in settings.sites]
    if len(names) != len(set(names)):
        raise ConfigError(f"backup site names must be unique: {names}")
    return settings
