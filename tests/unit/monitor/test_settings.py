"""The `[monitor]` settings: defaults, erpops.toml, environment over the file, durations and sources."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from monitor.clock import format_duration, parse_duration, rfc3339
from monitor.settings import load_monitor_settings


def test_toml_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "erpops.toml"
    config.write_text('[monitor]\ninterval = 2\n[monitor.route]\ngroup_wait = "5s"\n'
                      '[[monitor.receivers]]\nkind = "webhook"\nurl = "http://127.0.0.1:1/hook"\n')
    monkeypatch.setenv("ERPOPS_CONFIG", str(config))
    monkeypatch.setenv("ERPOPS_MONITOR__INTERVAL", "3")
    settings = load_monitor_settings()
    assert settings.interval == 3.0
    route = settings.route.build()
    assert (route.group_wait, route.group_interval, route.repeat_interval) == (5.0, 300.0, 14400.0)
    assert settings.receivers[0].url == "http://127.0.0.1:1/hook"
    assert settings.inhibit_rules[0].build().equal == ("alertname", "instance")


def test_refuses_what_it_cannot_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ERPOPS_CONFIG", "")  # no configuration file
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        load_monitor_settings(interval=0.1)
    with pytest.raises(ValidationError, match="bad duration"):
        load_monitor_settings(resolve_timeout="5 minutes")
    with pytest.raises(ValidationError, match="Extra inputs"):
        load_monitor_settings(intervall=1)


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("1h30m", 5400), ("250ms", 0.25), ("2d", 172800),
                                               ("15", 15), (30, 30)])
def test_durations(text: str | int, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_duration_round_trip_and_errors() -> None:
    assert [format_duration(s) for s in (0, 90, 300, 7200, 0.5)] == ["0s", "90s", "5m", "2h", "500ms"]
    for bad in ("", "5x", "m", "1h5"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    assert rfc3339(0.5) == "1970-01-01T00:00:00.500Z"
