"""Failover settings come from defaults, then erpops.toml's [failover], then the environment."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from failover.settings import load_failover_settings
from failover.types import EngineName


def test_defaults_are_the_fast_safe_manual_runbook(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file
    s = load_failover_settings()
    assert s.engine is EngineName.MANUAL
    assert s.failure_threshold == 3 and s.strict_sync is False


def test_environment_wins_over_the_toml_section(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text("[failover]\nclients = 7\nrto_target = 4.5\n")
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))
    monkeypatch.setenv("ERPOPS_FAILOVER__CLIENTS", "2")
    s = load_failover_settings()
    assert s.clients == 2 and s.rto_target == 4.5


def test_invalid_values_fail_before_any_work(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file
    monkeypatch.setenv("ERPOPS_FAILOVER__FAILURE_THRESHOLD", "0")
    with pytest.raises(ValidationError):
        load_failover_settings()
