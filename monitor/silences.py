"""Silences with Alertmanager's matchers, time window, author and comment, kept in a JSON file.

The file is shared by `erpops monitor silence ...`, the REST API and a running `erpops monitor run`,
which re-reads it when it changes, so a silence added anywhere mutes at the next flush.
"""

from __future__ import annotations

import json
import math
import os
import re
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from erpcore.exceptions import NotFound, ValidationFailed
from monitor.clock import format_duration
from monitor.regex import RegexError, compile_label_regex
from monitor.types import Labels

MATCHER_HEAD = r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)"  # a label name and an operator (the API declares it)
MATCHER = re.compile(MATCHER_HEAD + r'\s*"?(.*?)"?\s*$')
MAX_MATCHER = 2048
MAX_START_AHEAD = 366 * 86400.0


@dataclass(frozen=True)
class LabelMatcher:
    """Alertmanager's matcher: `name="value"`, `!=`, `=~` (anchored regex), `!~`."""

    name: str
    value: str
    isRegex: bool = False
    isEqual: bool = True

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.name, "")
        if not self.isRegex:
            return (actual == self.value) == self.isEqual
        try:
            hit = compile_label_regex(self.value).fullmatch(actual)
        except RegexError:  # a silence stored before its pattern was refused mutes nothing
            return False
        return hit == self.isEqual

    def __str__(self) -> str:
        op = ("=~" if self.isRegex else "=") if self.isEqual else ("!~" if self.isRegex else "!=")
        return f'{self.name}{op}"{self.value}"'


def parse_matcher(text: str) -> LabelMatcher:
    """`severity="critical"`, `instance=~"db.*"`, `alertname!=Watchdog` to a matcher."""
    m = MATCHER.match(text) if len(text) <= MAX_MATCHER else None
    if m is None:
        raise ValidationFailed(f"not a matcher: {text[:80]!r} (expected name=value, !=, =~ or !~, "
                               f"at most {MAX_MATCHER} characters)")
    name, op, value = m.groups()
    if "~" in op:
        try:
            compile_label_regex(value)
        except RegexError as exc:
            raise ValidationFailed(f"matcher {name}: {exc}") from None
    return LabelMatcher(name, value, isRegex="~" in op, isEqual=not op.startswith("!"))


def matches_all(matchers: list[LabelMatcher] | tuple[LabelMatcher, ...], labels: Labels) -> bool:
    return all(m.matches(labels) for m in matchers)


@dataclass(frozen=True)
class Silence:
    matchers: tuple[LabelMatcher, ...]
    startsAt: float
    endsAt: float
    createdBy: str
    comment: str
    id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def state(self, now: float) -> str:
        if now < self.startsAt:
            return "pending"
        return "active" if now < self.endsAt else "expired"

    def mutes(self, labels: Labels, now: float) -> bool:
        return self.state(now) == "active" and matches_all(self.matchers, labels)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Silence:
        """A stored silence; one with a non-finite window (written before windows were checked) is expired."""
        matchers = tuple(LabelMatcher(**m) for m in data["matchers"])
        starts, ends = float(data["startsAt"]), float(data["endsAt"])
        if not (math.isfinite(starts) and math.isfinite(ends)):
            starts = ends = starts if math.isfinite(starts) else 0.0
        return cls(matchers, starts, ends, str(data["createdBy"]), str(data["comment"]), str(data["id"]))


@dataclass(frozen=True)
class SilencePolicy:
    """What a new silence may be: how long it may last, and the alerts that may not all be muted at once."""

    max_duration: float = 7 * 86400.0
    critical: tuple[Labels, ...] = ()


def new_silence(matchers: list[str], starts_at: float, ends_at: float, author: str, comment: str,
                policy: SilencePolicy | None = None, *, now: float | None = None,
                confirm: bool = False) -> Silence:
    """Validate and build a silence: matchers, author, comment, a finite bounded window that ends in the
    future, and, unless `confirm`, not one that mutes every critical alert of `policy`."""
    policy = policy or SilencePolicy()
    now = time.time() if now is None else now
    if not matchers:
        raise ValidationFailed("a silence needs at least one matcher")
    if not author.strip() or not comment.strip():
        raise ValidationFailed("a silence needs an author and a comment")
    _check_window(starts_at, ends_at, now, policy.max_duration)
    parsed = tuple(parse_matcher(m) for m in matchers)
    if all(m.isRegex and m.matches({}) for m in parsed):
        raise ValidationFailed("a silence whose matchers all match the empty string would mute everything")
    muted = [c for c in policy.critical if matches_all(parsed, c)]
    if policy.critical and len(muted) == len(policy.critical) and not confirm:
        names = ", ".join(sorted({c.get("alertname", "?") for c in muted}))
        raise ValidationFailed(f"this silence mutes every critical alert ({names}); narrow its matchers, "
                               "or confirm it explicitly (`confirm: true`, `--confirm-all-critical`)")
    return Silence(parsed, starts_at, ends_at, author, comment)


def _check_window(starts_at: float, ends_at: float, now: float, max_duration: float) -> None:
    if not (math.isfinite(starts_at) and math.isfinite(ends_at)):
        raise ValidationFailed("startsAt and endsAt must be finite times (seconds since the epoch)")
    if ends_at <= starts_at:
        raise ValidationFailed("a silence must end after it starts")
    if ends_at <= now:
        raise ValidationFailed("a silence must end in the future")
    if starts_at > now + MAX_START_AHEAD:
        raise ValidationFailed(f"a silence may start at most {format_duration(MAX_START_AHEAD)} from now")
    lasts = ends_at - max(starts_at, now)
    if lasts > max_duration:
        raise ValidationFailed(f"a silence may last at most {format_duration(max_duration)} "
                               f"(monitor.silence_max_duration); this one lasts {lasts / 86400:.4g} days")


class SilenceStore:
    """Silences in a JSON file (or only in memory when `path` is None), re-read when the file changes."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._silences: dict[str, Silence] = {}

    def all(self) -> list[Silence]:
        with self._lock:
            self._reload()
            return sorted(self._silences.values(), key=lambda s: (s.startsAt, s.id))

    def add(self, silence: Silence) -> Silence:
        with self._lock:
            self._reload()
            self._silences[silence.id] = silence
            self._save()
        return silence

    def expire(self, silence_id: str, now: float) -> Silence:
        with self._lock:
            self._reload()
            found = self._silences.get(silence_id)
            if found is None:
                raise NotFound(f"no silence {silence_id}")
            ended = Silence(found.matchers, found.startsAt, min(found.endsAt, now), found.createdBy,
                            found.comment, found.id)
            self._silences[silence_id] = ended
            self._save()
        return ended

    def muting(self, labels: Labels, now: float) -> list[str]:
        """Ids of the active silences that mute `labels`."""
        return [s.id for s in self.all() if s.mutes(labels, now)]

    def _reload(self) -> None:
        if self.path is None or not self.path.exists():
            return
        mtime = self.path.stat().st_mtime_ns
        if mtime == self._mtime:
            return
        data = json.loads(self.path.read_text() or "[]")
        self._silences = {d["id"]: Silence.from_dict(d) for d in data}
        self._mtime = mtime

    def _save(self) -> None:
        if self.path is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps([s.to_dict() for s in self._silences.values()], indent=1))
        os.replace(tmp, self.path)
        self._mtime = self.path.stat().st_mtime_ns
