"""Every malformed expression ends in a ParseError naming the problem, promptly (a custom rule file is input)."""

from __future__ import annotations

import threading

import pytest

from monitor.promql import ParseError, parse

BAD = [
    ("sum(", "end of expression"),
    ("x{a=1}", "bad matcher"),
    ("{}", "needs a metric name or a matcher"),
    ("x[5m", "unexpected character"),
    ("rate(x[5m]) )", "after the expression"),
    ('x{a=~"("}', "matcher a: bad regex"),
    ("sum by (a", "label name in the grouping"),
    ("sum by (a,", "label name in the grouping"),
    ("sum by (1) (x)", "label name in the grouping"),
    ("count(x) without (", "label name in the grouping"),
    ("x @ 5", "unexpected character"),
    ("or", "unexpected 'or'"),
    ("x or", "end of expression"),
    ("vector(1) and", "end of expression"),
    ('x{a="1"', "bad matcher"),
    ("x{", "bad matcher"),
    ("x{a=", "bad matcher"),
    ("max(", "end of expression"),
    ("clamp_min(x,", "end of expression"),
    ("-", "end of expression"),
    ("((x)", "expected ')'"),
    ("rate(x[5m]", "end of expression"),
]


def parse_within(text: str, seconds: float = 2.0) -> BaseException | None:
    """Parse in a thread; the error raised, None when it parsed, and a failure when it never returns."""
    outcome: list[BaseException | None] = []

    def work() -> None:
        try:
            parse(text)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert outcome, f"parsing {text!r} did not finish within {seconds}s"
    return outcome[0]


@pytest.mark.parametrize(("text", "says"), BAD, ids=[t for t, _ in BAD])
def test_malformed_expressions_fail_fast_with_a_reason(text: str, says: str) -> None:
    error = parse_within(text)
    assert isinstance(error, ParseError) and says in str(error), error


@pytest.mark.parametrize("text", ["sum without(a) (x)", "sum(x) by (a, b)", "+Inf", "x or y unless z",
                                  'absent(x{job="a"})', "irate(x[1m]) * 60"])
def test_wellformed_expressions_parse(text: str) -> None:
    assert parse_within(text) is None
