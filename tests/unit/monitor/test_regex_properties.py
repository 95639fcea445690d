"""RE2 and Python's `re` agree on anchored matching for the patterns people write in matchers, so moving
silences and rules to RE2 changed no verdict, only the time a hostile pattern can take."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.regex import backtracking_risk, compile_label_regex

ATOMS = st.sampled_from(["a", "b", ".", "[ab]", "[^a]", "(a|b)", "(?:ab)", r"\d", "x"])
QUANTIFIERS = st.sampled_from(["", "*", "+", "?", "{1,2}"])
PATTERNS = st.lists(st.tuples(ATOMS, QUANTIFIERS), min_size=1, max_size=4).map(
    lambda parts: "".join(atom + q for atom, q in parts))
LABELS = st.text(alphabet="abx1", max_size=10)


@settings(max_examples=300, deadline=None)
@given(PATTERNS, LABELS)
def test_re2_and_re_agree_on_full_matches(pattern: str, label: str) -> None:
    assert compile_label_regex(pattern).fullmatch(label) == (re.fullmatch(pattern, label) is not None)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(ATOMS, st.sampled_from(["", "?"])), min_size=1, max_size=5))
def test_patterns_without_repetition_are_never_called_risky(parts: list[tuple[str, str]]) -> None:
    pattern = "".join(atom + q for atom, q in parts)
    assert backtracking_risk(pattern) is None


@settings(max_examples=100, deadline=None)
@given(ATOMS, st.sampled_from(["*", "+", "{2,}"]), st.sampled_from(["*", "+", "{1,}"]))
def test_a_repeated_group_around_a_repetition_is_always_called_risky(atom: str, inner: str, outer: str) -> None:
    assert backtracking_risk(f"({atom}{inner}){outer}") is not None
