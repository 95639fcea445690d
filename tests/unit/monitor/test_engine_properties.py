"""Properties of the state machine over arbitrary signals (hypothesis)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.engine import RuleRunner
from monitor.rules import parse_rule
from monitor.types import AlertState

KEY = (("instance", "db1"),)
signals = st.lists(st.one_of(st.none(), st.floats(0, 200)), min_size=1, max_size=60)


def rule(**kw: object) -> RuleRunner:
    data: dict[str, object] = {"alert": "P", "expr": "x", "threshold": 100, "no_data": "ok",
                               "annotations": {"runbook_url": "r.md"}, **kw}
    return RuleRunner(parse_rule(data))


def states(runner: RuleRunner, signal: list[float | None]) -> list[tuple[AlertState, AlertState]]:
    out = []
    for t, v in enumerate(signal):
        ev = runner.step({} if v is None else {KEY: v}, float(t))
        out += [(i.previous, i.state) for i in ev.instances]
    return out


@settings(max_examples=150, deadline=None)
@given(signals, st.integers(0, 5), st.integers(0, 5), st.one_of(st.none(), st.floats(50, 100)))
def test_fires_and_resolves_alternate(signal: list[float | None], for_: int, keep: int,
                                      resolve: float | None) -> None:
    runner = rule(**{"for": for_, "keep_firing_for": keep, "resolve_threshold": resolve})
    events = [new for old, new in states(runner, signal) if old != new and new in ("firing", "resolved")]
    assert all(a != b for a, b in pairwise(events))  # never two fires or two resolves in a row
    assert not events or events[0] == AlertState.FIRING


@settings(max_examples=150, deadline=None)
@given(signals, st.integers(1, 5))
def test_pending_goes_only_to_firing_or_inactive(signal: list[float | None], for_: int) -> None:
    for old, new in states(rule(**{"for": for_}), signal):
        if old == AlertState.PENDING:
            assert new in (AlertState.PENDING, AlertState.FIRING, AlertState.INACTIVE)
        if new == AlertState.FIRING and old != AlertState.FIRING:
            assert old == AlertState.PENDING


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(97, 103), min_size=5, max_size=80))
def test_hysteresis_never_flaps_within_its_band(noise: list[float]) -> None:
    runner = rule(resolve_threshold=90)
    signal: list[float | None] = [150.0, *noise]
    transitions = [new for old, new in states(runner, signal) if old != new]
    assert transitions == [AlertState.FIRING]
