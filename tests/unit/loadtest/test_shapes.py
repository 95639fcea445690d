"""Load shapes give the user counts they promise at each moment, and all end at their run time."""

from __future__ import annotations

import pytest

from erpcore.exceptions import ConfigError
from loadtest.shapes import ShapeKind, ShapeSpec, build, parse_duration


def users(kind: ShapeKind, at: list[float], **kw: float) -> list[int | None]:
    shape = build(ShapeSpec(kind, int(kw.pop("users", 10)), kw.pop("run_time_s", 100.0), **kw))  # type: ignore[arg-type]
    return [None if (t := shape.tick(s)) is None else t[0] for s in at]


def test_ramp_climbs_over_the_first_half_then_holds() -> None:
    assert users(ShapeKind.RAMP, [0, 10, 25, 49, 50, 99, 100]) == [1, 2, 5, 10, 10, 10, None]


def test_step_holds_equal_steps() -> None:
    assert users(ShapeKind.STEP, [0, 24, 25, 50, 75, 99.9], steps=4) == [3, 3, 5, 8, 10, 10]


def test_spike_is_a_flash_sale_in_the_middle_fifth() -> None:
    assert users(ShapeKind.SPIKE, [0, 39, 40, 59, 60, 99]) == [2, 2, 10, 10, 2, 2]


def test_soak_holds_everyone_to_the_end() -> None:
    assert users(ShapeKind.SOAK, [0, 50, 99, 100]) == [10, 10, 10, None]


def test_month_end_doubles_for_the_close() -> None:
    assert users(ShapeKind.MONTH_END, [0, 49, 50, 99]) == [5, 5, 10, 10]


def test_arrival_rate_sizes_users_by_pace_and_caps_them() -> None:
    assert users(ShapeKind.ARRIVAL, [0, 50], rate=3.0, pace_s=2.0) == [6, 6]
    assert users(ShapeKind.ARRIVAL, [0], rate=30.0, pace_s=2.0) == [10]  # capped at --users


def test_spawn_rate_reaches_the_target_within_a_second() -> None:
    tick = build(ShapeSpec(ShapeKind.SPIKE, 50, 60)).tick(30)
    assert tick == (50, 50.0)


def test_spec_round_trips_through_json() -> None:
    spec = ShapeSpec(ShapeKind.ARRIVAL, 5, 30, rate=2.5, pace_s=0.5)
    assert ShapeSpec.from_json(spec.to_json()) == spec


@pytest.mark.parametrize("spec", [ShapeSpec(ShapeKind.RAMP, 0, 10), ShapeSpec(ShapeKind.SOAK, 1, 0),
                                  ShapeSpec(ShapeKind.STEP, 4, 10, steps=0), ShapeSpec(ShapeKind.ARRIVAL, 4, 10)])
def test_impossible_shapes_are_refused(spec: ShapeSpec) -> None:
    with pytest.raises(ConfigError):
        build(spec)


@pytest.mark.parametrize(("text", "seconds"), [("60", 60), ("60s", 60), ("2m", 120), ("1h30m", 5400), ("1.5s", 1.5)])
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5x"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_duration(text)
