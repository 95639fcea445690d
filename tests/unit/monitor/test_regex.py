"""Label regexes: RE2 in linear time, anchored; without RE2 the catastrophic patterns are refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from monitor import regex
from monitor.regex import MAX_LABEL, MAX_PATTERN, RegexError, backtracking_risk, compile_label_regex


@pytest.fixture
def no_re2(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(regex, "_re2", lambda: None)
    compile_label_regex.cache_clear()
    yield
    compile_label_regex.cache_clear()


def test_re2_is_installed_and_used() -> None:
    assert compile_label_regex("db.*").engine == "re2"


@pytest.mark.parametrize("label", ["a" * 14, "a" * 18, "a" * 28, "a" * 5000])
def test_the_issue_pattern_on_long_labels_is_fast(label: str) -> None:
    pattern = compile_label_regex("(.*.*)*X")
    started = time.perf_counter()
    assert pattern.fullmatch(label) is False
    assert pattern.fullmatch(label + "X") is True
    assert time.perf_counter() - started < 0.05


def test_matching_is_anchored_at_both_ends() -> None:
    pattern = compile_label_regex("db.*")
    assert pattern.fullmatch("db1") and not pattern.fullmatch("xdb1")
    assert not compile_label_regex("db").fullmatch("db1")


def test_bad_and_oversized_patterns_name_the_problem() -> None:
    with pytest.raises(RegexError, match="bad regex"):
        compile_label_regex("(a")
    with pytest.raises(RegexError, match=f"at most {MAX_PATTERN}"):
        compile_label_regex("a" * (MAX_PATTERN + 1))
    with pytest.raises(RegexError, match="bad regex"):
        compile_label_regex(r"(a)\1")  # RE2 has no backreferences


def test_labels_beyond_the_bound_never_match() -> None:
    assert compile_label_regex(".*").fullmatch("a" * MAX_LABEL)
    assert not compile_label_regex(".*").fullmatch("a" * (MAX_LABEL + 1))


@pytest.mark.parametrize(("pattern", "risky"), [
    ("(.*.*)*X", True), ("((a+)b)+", True), ("(?:a+)+", True), ("(a*)*", True), (r"(a)\1", True),
    ("(?=a)a", True), ("db.*", False), ("(a|b)*", False), ("(?:ab)+", False), ("[(]+", False),
    ("[)*]+(x)*", False), ("a{2,}(b)", False), (r"\(a+\)+", False),
])
def test_backtracking_risk(pattern: str, risky: bool) -> None:
    assert (backtracking_risk(pattern) is not None) is risky


def test_without_re2_risky_patterns_are_refused_and_safe_ones_work(no_re2: None) -> None:
    with pytest.raises(RegexError, match="exponential time.*google-re2"):
        compile_label_regex("(.*.*)*X")
    safe = compile_label_regex("db.*")
    assert safe.engine == "re" and safe.fullmatch("db1") and not safe.fullmatch("xdb1")
