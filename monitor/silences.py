"""Silences with Alertmanager's matchers, time window, author and comment, kept in a JSON file.

The file is shared by `erpops monitor silence ...`, the REST API and a running `erpops monitor run`,
which re-reads it when it changes, so a silence added anywhere mutes at the next flush.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from erpcore.exceptions import NotFound, ValidationFailed
from monitor.types import Labels

MATCHER = re.compile(r'^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*"?(.*?)"?\s*$')


@dataclass(frozen=True)
class LabelMatcher:
    """Alertmanager's matcher: `name="value"`, `!=`, `=~` (anchored regex), `!~`."""

    name: str
    value: str
    isRegex: bool = False
    isEqual: bool = True

    def matches(self, labels: Labels) -> bool:
        actual = labels.get(self.name, "")
        hit = re.fullmatch(self.value, actual) is not None if self.isRegex else actual == self.value
        return hit == self.isEqual

    def __str__(self) -> str:
        op = ("=~" if self.isRegex else "=") if self.isEqual else ("!~" if self.isRegex else "!=")
        return f'{self.name}{op}"{self.value}"'


def parse_matcher(text: str) -> LabelMatcher:
    """`severity="critical"`, `instance=~"db.*"`, `alertname!=Watchdog` to a matcher."""
    m = MATCHER.match(text)
    if m is None:
        raise ValidationFailed(f"not a matcher: {text!r} (expected name=value, !=, =~ or !~)")
    name, op, value = m.groups()
    if "~" in op:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValidationFailed(f"bad regex in {text!r}: {exc}") from None
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
        matchers = tuple(LabelMatcher(**m) for m in data["matchers"])
        return cls(matchers, float(data["startsAt"]), float(data["endsAt"]),
                   str(data["createdBy"]), str(data["comment"]), str(data["id"]))


def new_silence(matchers: list[str], starts_at: float, ends_at: float, author: str, comment: str) -> Silence:
    """Validate and build a silence (at least one matcher, an author, a comment, start before end)."""
    if not matchers:
        raise ValidationFailed("a silence needs at least one matcher")
    if not author.strip() or not comment.strip():
        raise ValidationFailed("a silence needs an author and a comment")
    if ends_at <= starts_at:
        raise ValidationFailed("a silence must end after it starts")
    parsed = tuple(parse_matcher(m) for m in matchers)
    if all(m.isRegex and re.fullmatch(m.value, "") for m in parsed):
        raise ValidationFailed("a silence whose matchers all match the empty string would mute everything")
    return Silence(parsed, starts_at, ends_at, author, comment)


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
