"""Load shapes as plain classes: `tick(elapsed_s)` gives (users, spawn rate), or None when the run is over.

Locust's `LoadTestShape` in `loadtest/locust_shape.py` delegates to these, so they are tested without
importing Locust (which monkey-patches the process with gevent). Every shape ends at its run time.

- ramp: linear from 0 to `users` over the first half, then hold.
- step: `steps` equal steps up to `users`, each held for an equal share of the run.
- spike: a baseline of a fifth of `users`, a flash sale at full `users` in the middle fifth.
- soak: all `users` at once for the whole run.
- month-end: the ordinary day at half of `users` for the first half, the close at full `users` after.
- arrival: an open model: `rate` task iterations per second, each user pacing one iteration every
  `pace` seconds, so users = ceil(rate x pace), capped at `users`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from erpcore.exceptions import ConfigError

Tick = tuple[int, float] | None


class ShapeKind(StrEnum):
    RAMP = "ramp"
    STEP = "step"
    SPIKE = "spike"
    SOAK = "soak"
    MONTH_END = "month-end"
    ARRIVAL = "arrival"


@dataclass(frozen=True)
class ShapeSpec:
    """What the locustfile needs to rebuild a shape in its own process (passed as JSON in the environment)."""

    kind: ShapeKind
    users: int
    run_time_s: float
    steps: int = 4
    rate: float = 0.0
    pace_s: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "kind": self.kind.value}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ShapeSpec:
        return cls(**{**data, "kind": ShapeKind(data["kind"])})


@dataclass(frozen=True)
class Shape:
    users: int
    run_time_s: float

    def users_at(self, elapsed: float) -> int:
        raise NotImplementedError

    def tick(self, elapsed: float) -> Tick:
        """Users wanted at `elapsed` seconds and the spawn rate to reach them; None once the run is over."""
        if elapsed >= self.run_time_s:
            return None
        return self.users_at(elapsed), float(max(self.users, 1))


@dataclass(frozen=True)
class Ramp(Shape):
    def users_at(self, elapsed: float) -> int:
        ramp = self.run_time_s / 2
        return max(1, min(self.users, math.ceil(self.users * elapsed / ramp))) if ramp > 0 else self.users


@dataclass(frozen=True)
class Step(Shape):
    steps: int = 4

    def users_at(self, elapsed: float) -> int:
        step = min(self.steps - 1, int(elapsed / (self.run_time_s / self.steps)))
        return max(1, math.ceil(self.users * (step + 1) / self.steps))


@dataclass(frozen=True)
class Spike(Shape):
    def users_at(self, elapsed: float) -> int:
        fifth = self.run_time_s / 5
        return self.users if 2 * fifth <= elapsed < 3 * fifth else max(1, self.users // 5)


@dataclass(frozen=True)
class Soak(Shape):
    def users_at(self, elapsed: float) -> int:
        return self.users


@dataclass(frozen=True)
class MonthEnd(Shape):
    def users_at(self, elapsed: float) -> int:
        return self.users if elapsed >= self.run_time_s / 2 else max(1, self.users // 2)


@dataclass(frozen=True)
class Arrival(Shape):
    rate: float = 1.0
    pace_s: float = 1.0

    def users_at(self, elapsed: float) -> int:
        return max(1, min(self.users, math.ceil(self.rate * self.pace_s)))


def build(spec: ShapeSpec) -> Shape:
    """The shape `spec` describes; ConfigError for impossible parameters."""
    if spec.users < 1 or spec.run_time_s <= 0:
        raise ConfigError(f"a {spec.kind} shape needs at least one user and a positive run time")
    if spec.kind is ShapeKind.STEP:
        if spec.steps < 1:
            raise ConfigError("a step shape needs at least one step")
        return Step(spec.users, spec.run_time_s, spec.steps)
    if spec.kind is ShapeKind.ARRIVAL:
        if spec.rate <= 0 or spec.pace_s <= 0:
            raise ConfigError("an arrival shape needs a positive --rate and pace")
        return Arrival(spec.users, spec.run_time_s, spec.rate, spec.pace_s)
    kinds: dict[ShapeKind, type[Shape]] = {ShapeKind.RAMP: Ramp, ShapeKind.SPIKE: Spike, ShapeKind.SOAK: Soak,
                                           ShapeKind.MONTH_END: MonthEnd}
    return kinds[spec.kind](spec.users, spec.run_time_s)


def parse_duration(text: str) -> float:
    """Seconds from `90`, `90s`, `2m`, `1h30m`."""
    import re

    parts = re.fullmatch(r"\s*(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*", text)
    if not text.strip() or parts is None or not any(parts.groups()):
        raise ConfigError(f"cannot read the duration {text!r}; write e.g. 60s, 2m or 1h30m")
    h, m, s = parts.groups()
    return int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
