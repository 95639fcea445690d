"""Label regexes matched in linear time, anchored at both ends as Prometheus and Alertmanager anchor them.

Matchers come from anyone who may create a silence, so a pattern such as `(.*.*)*X` must not stall the
dispatcher. RE2 (what Prometheus and Alertmanager use, from the `google-re2` package) matches in time linear
in the label, and its memory is capped. Without RE2, patterns that can backtrack catastrophically (a
repeated group that itself repeats, backreferences, lookarounds) are refused and Python's `re` runs the rest.
Both engines see at most `MAX_PATTERN` characters of pattern and `MAX_LABEL` characters of label, which
bounds the time of every match.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

MAX_PATTERN = 1024
MAX_LABEL = 16384
RE2_MAX_MEM = 8 << 20


class RegexError(ValueError):
    """The pattern is unusable; the message says why."""


def _re2() -> Any:
    try:
        import re2  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return None
    return re2


@dataclass(frozen=True)
class LabelRegex:
    """A compiled, fully anchored label regex: `fullmatch` bounded in time."""

    pattern: str
    engine: str
    _compiled: Any = field(compare=False, repr=False)

    def fullmatch(self, value: str) -> bool:
        if len(value) > MAX_LABEL:
            return False
        return self._compiled.fullmatch(value) is not None


_UNSAFE = re.compile(r"\\[1-9]|\(\?[=!<]|\(\?P=")
_QUANTIFIER = frozenset("*+?{")


def backtracking_risk(pattern: str) -> str | None:
    """Why a backtracking engine could take exponential time on `pattern`, or None."""
    if _UNSAFE.search(pattern):
        return "backreferences and lookarounds are not supported"
    quantified: list[bool] = []  # per open group: does its body repeat something?
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            i += 2
            continue
        follows = pattern[i + 1] if i + 1 < len(pattern) else ""
        if ch == "[":  # a class: its brackets and stars are literal
            end = pattern.find("]", i + 2)
            i = len(pattern) if end < 0 else end + 1
            continue
        if ch == "(":
            quantified.append(False)
            if follows == "?":  # (?:...), (?P<name>...), (?i): the `?` is no quantifier
                i += 2
                continue
        elif ch == ")" and quantified:
            inner = quantified.pop()
            if inner and follows in _QUANTIFIER:
                return "a repeated group that itself repeats can take exponential time"
            if quantified:
                quantified[-1] = quantified[-1] or inner or follows in _QUANTIFIER
        elif ch in _QUANTIFIER and quantified:
            quantified[-1] = True
        i += 1
    return None


@lru_cache(maxsize=1024)
def compile_label_regex(pattern: str) -> LabelRegex:
    """Compile `pattern` for `fullmatch`, or raise `RegexError` naming what is wrong."""
    if len(pattern) > MAX_PATTERN:
        raise RegexError(f"the regex is {len(pattern)} characters long; at most {MAX_PATTERN} are allowed")
    re2 = _re2()
    if re2 is not None:
        options = re2.Options()
        options.log_errors = False
        options.max_mem = RE2_MAX_MEM
        try:
            return LabelRegex(pattern, "re2", re2.compile(pattern, options=options))
        except re2.error as exc:
            reason = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else str(exc)
            raise RegexError(f"bad regex {pattern!r}: {reason}") from None
    risk = backtracking_risk(pattern)
    if risk is not None:
        raise RegexError(f"regex {pattern!r} refused: {risk} (install google-re2 to allow it)")
    try:
        return LabelRegex(pattern, "re", re.compile(pattern))
    except re.error as exc:
        raise RegexError(f"bad regex {pattern!r}: {exc}") from None
