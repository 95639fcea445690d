"""Configuration: environment (`ERPOPS_` prefix, `__` for nesting) over an optional `erpops.toml`.

Defaults live here and only here. Each tool adds one typed section; `erpops config show` prints the
effective values with secrets masked.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from erpcore.exceptions import ConfigError, ErpError

DEFAULT_VAR_DIR = Path("var")


def default_database_url() -> str:
    return f"sqlite:///{(DEFAULT_VAR_DIR / 'erpops.sqlite').resolve()}"


# URL schemes erpops runs on (SQLAlchemy drivers it installs); `postgres://` and `postgresql://` mean psycopg 3.
DATABASE_SCHEMES = ("sqlite", "sqlite+pysqlite", "postgresql", "postgresql+psycopg", "postgres")
URL_HINT = "use sqlite:///path/to/file.sqlite or postgresql://user@host:5432/dbname"


def check_database_url(url: str) -> str:
    """`url` if erpops can use it, else ValueError saying why (without echoing a password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    scheme = url.split("://", 1)[0] if "://" in url else ""
    if not scheme:
        raise ValueError(f"not a URL (no scheme://): {URL_HINT}")
    if scheme.lower() not in DATABASE_SCHEMES:
        raise ValueError(f"scheme {scheme}:// is not supported, erpops runs on SQLite and "
                         f"PostgreSQL: {URL_HINT}")
    try:
        make_url(url)
    except (ArgumentError, ValueError) as exc:
        reason = "its port is not a number" if "int()" in str(exc) else str(exc).split(":", 1)[0]
        raise ValueError(f"malformed URL ({reason}): {URL_HINT}") from None
    return url


class MatchingSettings(BaseModel):
    """Three-way match tolerances (fractions, e.g. 0.02 = 2 %)."""

    price_tolerance: Decimal = Decimal("0.02")
    quantity_tolerance: Decimal = Decimal(0)


class DocumentSettings(BaseModel):
    """Bounds on what documents may carry: business dates within a window around today, line discounts."""

    max_days_back: int = Field(default=3660, ge=0)
    max_days_ahead: int = Field(default=366, ge=0)
    max_discount_percent: Decimal = Field(default=Decimal(50), ge=0, le=100)


class ApiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    page_size_max: int = 500
    # larger request bodies get 413 unread
    max_body_bytes: Annotated[int, Field(ge=1024)] = 1_048_576
    # how long an Idempotency-Key is remembered; older keys are purged and may be reused
    idempotency_window_hours: Annotated[int, Field(ge=1, le=24 * 30)] = 24
    # TLS: with both set, `erpops serve` speaks HTTPS only (PEM files; the key unencrypted)
    tls_certfile: Path | None = None
    tls_keyfile: Path | None = None


class AccessSettings(BaseModel):
    """Tokens and the audit trail."""

    # a token created without `--ttl` expires after this many days
    token_ttl_days: Annotated[int, Field(ge=1, le=3660)] = 90
    # off only to measure what the audit trail costs (`bench.api_throughput`); never in production
    audit_enabled: bool = True


class OutboxSettings(BaseModel):
    """Webhook delivery of the outbox (`erpops outbox deliver`): retries, back-off, timeouts, batch size."""

    max_attempts: int = Field(default=8, ge=1, le=100)  # failed attempts before a message is dead
    backoff_base_s: float = Field(default=2.0, gt=0)
    backoff_cap_s: float = Field(default=600.0, gt=0)
    timeout_s: float = Field(default=10.0, gt=0, le=300)  # per POST
    batch_size: int = Field(default=50, ge=1, le=1000)
    poll_interval_s: float = Field(default=1.0, gt=0)  # the loop's pause when nothing is due


_CONFIG_FILE: ContextVar[Path | None] = ContextVar("erpops_config_file", default=None)


def config_path() -> Path | None:
    """The configuration file to read, or None for none.

    One given by `config_file()` (a command's `--config`), else `ERPOPS_CONFIG`, else ./erpops.toml when it
    exists. A file named explicitly must exist: a typo must not silently run on the defaults. An empty
    `ERPOPS_CONFIG=` means no file at all (environment and defaults only).
    """
    chosen = _CONFIG_FILE.get()
    named = os.environ.get("ERPOPS_CONFIG")
    if chosen is None and named is None:
        default = Path("erpops.toml")
        return default if default.is_file() else None
    if chosen is None and named == "":
        return None
    path = chosen if chosen is not None else Path(str(named))
    if not path.is_file():
        origin = "--config" if chosen is not None else "ERPOPS_CONFIG"
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ConfigError(f"{origin} names {path}, which {what}: give the path of an erpops.toml, "
                          "or unset ERPOPS_CONFIG to use ./erpops.toml and the environment")
    return path


def read_config_file(path: Path) -> dict[str, Any]:
    """The TOML document at `path`; a syntax error is a ConfigError naming the file, line and column."""
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}: fix that line") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from exc


@contextmanager
def config_file(path: Path | None) -> Iterator[None]:
    """Read settings from `path` inside this block (a command's `--config` option); None changes nothing."""
    token = _CONFIG_FILE.set(path)
    try:
        yield
    finally:
        _CONFIG_FILE.reset(token)


class TomlTable(InitSettingsSource):
    """One table of the configuration file as a settings source (the whole file for table "")."""

    def __init__(self, settings_cls: type[BaseSettings], table: str = "") -> None:
        path = config_path()
        data: Any = read_config_file(path) if path is not None else {}
        if table:
            data = data.get(table, {})
        super().__init__(settings_cls, init_kwargs=dict(data) if isinstance(data, dict) else {})


class SectionSettings(BaseSettings):
    """Base of the core's and every tool's settings: arguments, then `ERPOPS_...` environment variables,
    then the section's table of erpops.toml, then the defaults declared on the class."""

    toml_table: ClassVar[str] = ""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlTable(settings_cls, cls.toml_table))


class Settings(SectionSettings):
    model_config = SettingsConfigDict(
        env_prefix="ERPOPS_",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = Field(default_factory=default_database_url)

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        return check_database_url(url)
    database_echo: bool = False
    pool_size: int = 10
    # Keys of sensitive fields (`erpcore.crypto`): "KID:BASE64KEY" entries, comma- or newline-separated, here
    # (ERPOPS_ENCRYPTION_KEY) and/or one per line in `encryption_key_file`; values are written with
    # `encryption_active_key` (default: the last key listed) and read with whichever key id they name.
    encryption_key: SecretStr | None = None
    encryption_key_file: Path | None = None
    encryption_active_key: str | None = None
    matching: MatchingSettings = MatchingSettings()
    documents: DocumentSettings = DocumentSettings()
    api: ApiSettings = ApiSettings()
    access: AccessSettings = AccessSettings()
    outbox: OutboxSettings = OutboxSettings()


def load_settings(**overrides: Any) -> Settings:
    """Read the effective configuration; nothing is read at import time. Wrong values are a ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise ConfigError(f"invalid configuration: {_reason(exc)} (set in the ERPOPS_ environment or erpops.toml; "
                          "`erpops config validate` checks every section)") from exc


SETTINGS_GROUP = "erpops.settings"


@dataclass(frozen=True)
class SectionReport:
    name: str
    values: dict[str, Any] | None  # masked; None when the section does not load
    error: str | None


def load_all_sections() -> list[SectionReport]:
    """The core's settings and every tool's section (entry points of `erpops.settings`), each loaded or refused
    with its reason: what `erpops config show|validate` report, without erpcore importing any tool."""
    from importlib.metadata import entry_points

    loaders: list[tuple[str, Any]] = [("core", load_settings)]
    loaders += sorted((ep.name, ep) for ep in entry_points(group=SETTINGS_GROUP))
    reports = []
    for name, loader in loaders:
        try:
            load = loader.load() if hasattr(loader, "load") else loader
            reports.append(SectionReport(name, masked(load()), None))
        except (ValueError, ErpError) as exc:  # pydantic's ValidationError is a ValueError
            reports.append(SectionReport(name, None, _reason(exc)))
    return reports


def _reason(exc: BaseException) -> str:
    """One line per problem, `field: what is wrong`, without pydantic's links."""
    cause = exc if isinstance(exc, ValidationError) else exc.__cause__
    if isinstance(cause, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
                         for e in cause.errors())
    return " ".join(str(exc).split())


SECRET_WORDS = ("password", "secret", "key", "token")


def masked(settings: BaseModel) -> dict[str, Any]:
    """A configuration section as plain data, with secrets and URL passwords masked."""
    data: dict[str, Any] = _mask(settings.model_dump(mode="json"))
    return data


def _mask(value: Any, name: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _mask(v, k) for k, v in value.items()}
    if isinstance(value, str) and "://" in value and "@" in value:
        scheme, rest = value.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else value
    if value is not None and any(word in name.lower() for word in SECRET_WORDS):
        return "***"
    return value
