"""The `[monitor]` section: read from `ERPOPS_MONITOR__...` env vars over the `[monitor]` table of erpops.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from erpcore.config import SectionSettings
from monitor.clock import parse_duration
from monitor.dispatcher import InhibitRule, Route
from monitor.silences import parse_matcher


class ReceiverSettings(BaseModel):
    kind: Literal["webhook", "alertmanager", "memory"] = "webhook"
    url: str = ""
    timeout: float = 5.0


class RouteSettings(BaseModel):
    """Alertmanager's root route, with its names and defaults."""

    receiver: str = "default"
    group_by: list[str] = ["alertname"]  # Alertmanager's example config; its bare default [] is one group
    group_wait: str = "30s"
    group_interval: str = "5m"
    repeat_interval: str = "4h"
    max_alerts: int = 0

    def build(self) -> Route:
        return Route(self.receiver, tuple(self.group_by), parse_duration(self.group_wait),
                     parse_duration(self.group_interval), parse_duration(self.repeat_interval), self.max_alerts)


class InhibitSettings(BaseModel):
    source_matchers: list[str]
    target_matchers: list[str]
    equal: list[str] = []

    def build(self) -> InhibitRule:
        return InhibitRule(tuple(parse_matcher(m) for m in self.source_matchers),
                           tuple(parse_matcher(m) for m in self.target_matchers), tuple(self.equal))


def _default_inhibit() -> list[InhibitSettings]:
    # Alertmanager's documented example: a critical alert mutes the warning of the same alert and instance.
    return [InhibitSettings(source_matchers=["severity=critical"], target_matchers=["severity=warning"],
                            equal=["alertname", "instance"])]


class MonitorSettings(SectionSettings):
    toml_table = "monitor"
    model_config = SettingsConfigDict(env_prefix="ERPOPS_MONITOR__", env_nested_delimiter="__", extra="forbid")

    interval: float = Field(default=1.0, ge=1.0, description="Seconds between evaluations (host sampling at most 1 Hz).")
    listen_host: str = "127.0.0.1"
    listen_port: int = 9464
    external_url: str = "http://127.0.0.1:9464"
    state_dir: Path = Path("var/monitor")
    rules: list[Path] = Field(default_factory=list)
    receivers: list[ReceiverSettings] = Field(default_factory=list)
    route: RouteSettings = RouteSettings()
    inhibit_rules: list[InhibitSettings] = Field(default_factory=_default_inhibit)
    alertmanager_url: str | None = None
    scrape_urls: list[str] = Field(default_factory=list)
    textfile_dirs: list[Path] = Field(default_factory=list, description="Directories of *.prom files "
                                      "(e.g. `erpops backup status --metrics` output), read every tick.")
    resolve_timeout: str = "5m"
    retry_min_backoff: float = 0.5
    retry_max_backoff: float = 30.0
    silence_max_duration: str = Field(default="7d", description="The longest silence that may be created.")
    metrics_public: bool = Field(default=False, description="Serve the API's /metrics without a token (default: "
                                 "a token whose role may read operations data, as Prometheus sends it).")
    api_url: str = Field(default="http://127.0.0.1:8000", description="The ERP API as people reach it; alert links "
                         "(generatorURL, runbook_url) point at its /api/monitor/rules and /api/monitor/runbooks.")
    scrape_token: SecretStr | None = Field(default=None, description="Bearer token sent when scraping /metrics URLs.")

    @field_validator("resolve_timeout", "silence_max_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        if not 0 < parse_duration(value) < float("inf"):
            raise ValueError(f"{value!r} is not a positive duration")
        return value

    @property
    def silences_path(self) -> Path:
        return self.state_dir / "silences.json"


def load_monitor_settings(**overrides: Any) -> MonitorSettings:
    """Arguments over the environment over the `[monitor]` table of erpops.toml (ERPOPS_CONFIG) over the defaults."""
    return MonitorSettings(**overrides)
