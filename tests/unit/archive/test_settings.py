"""Settings, policies and CLI parsing that refuse bad input before anything is written."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from archive.cli import parse_duration
from archive.context import check_policies
from archive.periods import default_closed_through
from archive.settings import ArchiveSettings, PolicySettings, load_archive_settings
from erpcore.exceptions import ConfigError


def test_policies_default_to_three_years() -> None:
    settings = ArchiveSettings()
    assert settings.policy("sales_orders").residence_years == 3.0
    assert settings.batch_size == 10_000 and settings.batch_seconds == 0.25  # time-bounded, up to 10,000 documents
    assert settings.server_side and settings.server_hash == "record"


def test_a_residence_under_a_year_needs_force() -> None:
    settings = ArchiveSettings(policies={"journal_entries": PolicySettings(residence_years=0.5)})
    with pytest.raises(ConfigError, match="journal_entries: residence time 0.5 years is under 1 year"):
        check_policies(settings, force=False)
    check_policies(settings, force=True)


def test_an_unknown_policy_in_the_configuration_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text("[archive]\nbatch_size = 50\n[archive.policies.audit_events]\nresidence_years = 10\n")
    settings = load_archive_settings(config)
    assert settings.batch_size == 50
    with pytest.raises(ConfigError, match="unknown archive policy 'audit_events'"):
        check_policies(settings, force=False)


def test_audit_entries_are_a_policy_like_the_others(tmp_path: Path) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text("[archive.policies.audit_entries]\nresidence_years = 10\n")
    settings = load_archive_settings(config)
    check_policies(settings, force=False)
    assert settings.policy("audit_entries").residence_years == 10
    config.write_text("[archive]\nbatch_size = 50\n")
    assert load_archive_settings(config).policy("audit_entries").residence_years == 3  # the default, like others


def test_invalid_values_are_one_config_error(tmp_path: Path) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text("[archive]\nbatch_size = 0\n")
    with pytest.raises(ConfigError, match="invalid archive configuration"):
        load_archive_settings(config)


def test_durations() -> None:
    assert parse_duration("30m") == 1800 and parse_duration("90") == 90 and parse_duration("1.5h") == 5400
    with pytest.raises(ConfigError, match="not a duration"):
        parse_duration("half an hour")


def test_the_default_closed_period_ends_the_year_before_last() -> None:
    assert default_closed_through(dt.date(2026, 12, 3)) == dt.date(2024, 12, 31)
    assert default_closed_through(dt.date(2026, 1, 1)) == dt.date(2024, 12, 31)
