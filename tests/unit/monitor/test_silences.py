"""A new silence: a finite window that ends in the future and lasts at most the policy's maximum, matchers that
parse in bounded time, and no silence of every critical alert unless confirmed."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from erpcore.exceptions import ValidationFailed
from monitor.silences import (
    MAX_MATCHER,
    LabelMatcher,
    SilencePolicy,
    SilenceStore,
    new_silence,
    parse_matcher,
)

NOW = 1_800_000_000.0
CRITICAL = ({"alertname": "PostgresqlDown", "severity": "critical", "component": "postgres"},
            {"alertname": "HostOutOfDiskSpace", "severity": "critical", "component": "host"})
POLICY = SilencePolicy(max_duration=7 * 86400.0, critical=CRITICAL)


def make(matchers: list[str], starts: float = NOW, ends: float = NOW + 3600, confirm: bool = False) -> object:
    return new_silence(matchers, starts, ends, "ana", "maintenance", POLICY, now=NOW, confirm=confirm)


@pytest.mark.parametrize(("starts", "ends"), [
    (NOW, math.inf), (NOW, math.nan), (math.nan, NOW + 60), (-math.inf, NOW + 60), (NOW, 1e308)])
def test_non_finite_and_absurd_windows_are_refused(starts: float, ends: float) -> None:
    with pytest.raises(ValidationFailed):
        make(["alertname=X"], starts, ends)


def test_the_window_must_end_in_the_future_after_it_starts_and_not_start_years_ahead() -> None:
    with pytest.raises(ValidationFailed, match="end after it starts"):
        make(["alertname=X"], NOW + 60, NOW + 30)
    with pytest.raises(ValidationFailed, match="end in the future"):
        make(["alertname=X"], NOW - 7200, NOW - 3600)
    with pytest.raises(ValidationFailed, match="at most"):
        make(["alertname=X"], NOW + 400 * 86400, NOW + 400 * 86400 + 60)


def test_the_longest_silence_is_the_policy_maximum() -> None:
    make(["alertname=X"], NOW, NOW + 7 * 86400)
    with pytest.raises(ValidationFailed, match=r"at most 7d \(monitor.silence_max_duration\); this one lasts 8 days"):
        make(["alertname=X"], NOW, NOW + 8 * 86400)
    make(["alertname=X"], NOW - 86400, NOW + 6 * 86400)  # started yesterday: 6 days are left


@pytest.mark.parametrize("matchers", [["severity=critical"], ["alertname=~.+"], ["component!=erp"],
                                      ["severity=critical", "alertname=~Postgres.*|Host.*"]])
def test_muting_every_critical_alert_needs_confirmation(matchers: list[str]) -> None:
    with pytest.raises(ValidationFailed, match=r"every critical alert \(HostOutOfDiskSpace, PostgresqlDown\)"):
        make(matchers)
    assert make(matchers, confirm=True) is not None


@pytest.mark.parametrize("matchers", [["alertname=PostgresqlDown"], ["instance=db1"], ["component=host"]])
def test_narrower_silences_need_no_confirmation(matchers: list[str]) -> None:
    assert make(matchers) is not None


def test_matchers_are_bounded_and_checked() -> None:
    with pytest.raises(ValidationFailed, match=f"at most {MAX_MATCHER}"):
        parse_matcher("alertname=" + "a" * MAX_MATCHER)
    with pytest.raises(ValidationFailed, match="matcher alertname: bad regex"):
        parse_matcher('alertname=~"(a"')
    assert parse_matcher('alertname=~"(.*.*)*X"').matches({"alertname": "a" * 18 + "X"})


def test_a_stored_silence_with_a_pattern_refused_later_mutes_nothing() -> None:
    matcher = LabelMatcher("alertname", "(a", isRegex=True)
    assert matcher.matches({"alertname": "(a"}) is False


def test_negative_regex_and_equality_matchers() -> None:
    assert LabelMatcher("instance", "db.*", isRegex=True, isEqual=False).matches({"instance": "web1"})
    assert not LabelMatcher("instance", "db1", isEqual=False).matches({"instance": "db1"})


def test_a_matcher_set_matching_the_empty_label_everywhere_is_refused() -> None:
    with pytest.raises(ValidationFailed, match="mute everything"):
        make(['alertname=~".*"'])
    with pytest.raises(ValidationFailed, match="mute everything"):
        make(['alertname!~"x"'])


def test_the_store_keeps_what_was_validated() -> None:
    store = SilenceStore()
    silence = store.add(new_silence(["alertname=X"], NOW, NOW + 60, "ana", "c", POLICY, now=NOW))
    assert store.muting({"alertname": "X"}, NOW + 1) == [silence.id]


def test_a_stored_silence_with_a_non_finite_window_loads_expired(tmp_path: Path) -> None:
    path = tmp_path / "silences.json"
    path.write_text('[{"matchers": [{"name": "alertname", "value": "PostgresqlDown", "isRegex": false, '
                    '"isEqual": true}], "startsAt": 1800000000.0, "endsAt": Infinity, "createdBy": "anon", '
                    '"comment": "shh", "id": "old"}]')
    store = SilenceStore(path)
    assert [s.state(NOW + 1) for s in store.all()] == ["expired"]
    assert store.muting({"alertname": "PostgresqlDown"}, NOW + 1) == []
