"""Locust statistics as data: percentiles as Locust computes them, selectors, checks and tasks kept apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loadtest.metrics import CHECK, TASK, Entry, Stats, entry_from_locust, percent_of, percentile


def entry(method: str, name: str, times: dict[int, int], failures: int = 0, timeless: int = 0) -> Entry:
    count = sum(times.values()) + timeless
    return Entry(method, name, count, failures, float(sum(t * n for t, n in times.items())),
                 float(max(times, default=0)), 1000.0, 1010.0, times, timeless)


def locust_percentile(times: dict[int, int], count: int, percent: float) -> int:
    """Locust 2.x's `calculate_response_time_percentile`, copied so the test does not import Locust."""
    num_of_request = int(count * percent)
    processed = 0
    for response_time in sorted(times.keys(), reverse=True):
        processed += times[response_time]
        if count - processed <= num_of_request:
            return response_time
    return 0


@pytest.mark.parametrize("percent", [50.0, 66.0, 90.0, 95.0, 99.0, 99.9, 100.0])
def test_percentiles_match_locust(percent: float) -> None:
    times = {10: 40, 20: 30, 35: 15, 80: 10, 250: 4, 1200: 1}
    assert percentile(times, 100, percent) == locust_percentile(times, 100, percent / 100)


def test_global_is_http_only_and_selectors_match_key_name_or_path() -> None:
    stats = Stats.from_entries([
        entry("POST", "/sales-orders", {10: 9, 100: 1}),
        entry("GET", "/sales-orders", {5: 10}, failures=1),
        entry(CHECK, "POST /sales-orders", {}, failures=1, timeless=10),
        entry(TASK, "order_to_cash", {900: 10}),
    ])
    assert stats.observe("global", "count") == 20.0
    assert stats.observe("global", "max") == 100.0  # the 900 ms task is not a request
    assert stats.observe("global", "rate(errors)") == pytest.approx(1 / 20)
    assert stats.observe("POST /sales-orders", "count") == 10.0
    assert stats.observe("/sales-orders", "count") == 20.0
    assert stats.observe("POST /sales-orders", "rate(checks)") == pytest.approx(0.9)
    assert stats.observe("global", "rate(checks)") == pytest.approx(0.9)
    assert stats.observe("order_to_cash", "p(95)") == 900.0
    assert stats.observe("GET /nothing", "p(95)") is None
    assert stats.duration_s == 10.0 and stats.observe("global", "rps") == pytest.approx(2.0)


def test_checks_logged_without_time_do_not_dilute_averages() -> None:
    stats = Stats.from_entries([entry("GET", "/items", {20: 4}), entry(CHECK, "GET /items", {}, timeless=4)])
    assert stats.observe("global", "avg") == 20.0
    assert stats.check_failures() == 0 and stats.requests() == 4


def test_reads_locust_json_file_and_summarises(tmp_path: Path) -> None:
    raw = [{"name": "/items", "method": "GET", "last_request_timestamp": 1005.0, "start_time": 1000.0,
            "num_requests": 3, "num_none_requests": 0, "num_failures": 1, "total_response_time": 60.0,
            "max_response_time": 30.0, "min_response_time": 10.0, "total_content_length": 9,
            "response_times": {"10": 1, "20": 1, "30": 1}, "num_reqs_per_sec": {}, "num_fail_per_sec": {}}]
    path = tmp_path / "stats.json"
    path.write_text(json.dumps(raw))
    stats = Stats.load(path)
    assert entry_from_locust(raw[0]).key == "GET /items"
    summary = stats.summaries()
    assert set(summary) == {"global", "GET /items"}
    assert summary["global"]["p(50)"] == 20.0 and summary["global"]["rps"] == pytest.approx(0.6)
    assert summary["global"]["rate(checks)"] is None


def test_percent_of_rejects_unknown_metrics() -> None:
    assert percent_of("med") == 50.0 and percent_of("p(99.9)") == 99.9
    with pytest.raises(ValueError):
        percent_of("latency")
