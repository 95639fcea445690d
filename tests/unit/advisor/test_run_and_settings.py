"""Choosing the engine, refusing contradictory options, and the [advisor] configuration section."""

from __future__ import annotations

from pathlib import Path

import pytest

from advisor.errors import AdvisorUsageError
from advisor.run import analyze_command, apply_command, engine_of, health_command, undo_command
from advisor.settings import AdvisorSettings, load_advisor_settings
from erpcore.exceptions import ConfigError


@pytest.mark.parametrize(("url", "engine"), [
    ("postgresql://h/db", "postgresql"), ("postgresql+psycopg://h/db", "postgresql"), ("postgres://h/db", "postgresql"),
    ("sqlite:///x.sqlite", "sqlite"), ("mysql+pymysql://h/db", "mysql"),
])
def test_the_engine_comes_from_the_url_scheme(url: str, engine: str) -> None:
    assert engine_of(url) == engine


def _settings(url: str, **values: object) -> AdvisorSettings:
    return AdvisorSettings(database_url=url, **values)  # type: ignore[arg-type]


def test_contradictory_workload_options_are_refused_before_any_connection(tmp_path: Path) -> None:
    settings = _settings("postgresql://postgres@127.0.0.1:1/none")
    with pytest.raises(AdvisorUsageError, match="--file or --log, not both"):
        analyze_command(settings, tmp_path / "a.sql", tmp_path / "b.log", False, False, None)
    with pytest.raises(AdvisorUsageError, match="--concurrently goes with --verify"):
        analyze_command(settings, tmp_path / "a.sql", None, False, True, None)


def test_sqlite_needs_a_statement_file_and_refuses_verify_and_logs(tmp_path: Path) -> None:
    settings = _settings(f"sqlite:///{tmp_path}/x.sqlite")
    for file, log, verify in ((None, None, False), (tmp_path / "a.sql", None, True), (None, tmp_path / "l", False)):
        with pytest.raises(AdvisorUsageError, match="on SQLite the advisor reads a statement file"):
            analyze_command(settings, file, log, verify, False, None)


def test_apply_and_undo_need_postgresql(tmp_path: Path) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text('{"recommendations": []}')
    settings = _settings(f"sqlite:///{tmp_path}/x.sqlite")
    with pytest.raises(AdvisorUsageError, match="needs PostgreSQL; got sqlite"):
        apply_command(settings, plan, [])
    with pytest.raises(AdvisorUsageError, match="needs PostgreSQL; got sqlite"):
        undo_command(settings, [])


def test_unknown_engines_are_named_in_the_error(tmp_path: Path) -> None:
    with pytest.raises(AdvisorUsageError, match="not oracle"):
        analyze_command(_settings("oracle://h/db"), tmp_path / "a.sql", None, False, False, None)
    with pytest.raises(AdvisorUsageError, match="no SQLite database"):
        health_command(_settings(f"sqlite:///{tmp_path}/missing.sqlite"))


def test_settings_from_the_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text('[advisor]\nmax_indexes = 4\nmin_benefit = 0.05\nlock_timeout = "2s"\n')
    monkeypatch.setenv("ERPOPS_ADVISOR__MAX_SIZE_MB", "256")
    settings = load_advisor_settings(config)
    assert (settings.max_indexes, settings.min_benefit, settings.lock_timeout, settings.max_size_mb) == (
        4, 0.05, "2s", 256.0)
    assert load_advisor_settings(config, max_indexes=9, samples=None).max_indexes == 9  # a flag wins, None is unset


def test_bad_settings_are_one_config_error(tmp_path: Path) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text("[advisor]\nmax_indexes = 0\n")
    with pytest.raises(ConfigError, match="invalid advisor configuration"):
        load_advisor_settings(config)
    config.write_text("[advisor]\nno_such_knob = 1\n")
    with pytest.raises(ConfigError):
        load_advisor_settings(config)


def test_the_database_defaults_to_the_erps(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ERPOPS_DATABASE_URL", "postgresql://erp@db/erp")
    monkeypatch.delenv("ERPOPS_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # no ./erpops.toml here
    assert load_advisor_settings().effective_database_url() == "postgresql://erp@db/erp"
    assert _settings("sqlite:///a").effective_database_url() == "sqlite:///a"
