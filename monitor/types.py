"""Shared aliases and the state words of the monitor."""

from __future__ import annotations

from enum import StrEnum

Labels = dict[str, str]
LabelKey = tuple[tuple[str, str], ...]
"""A label set frozen as sorted (name, value) pairs: hashable, and equal for equal label sets."""


def label_key(labels: Labels) -> LabelKey:
    return tuple(sorted(labels.items()))


class AlertState(StrEnum):
    """Where one alert instance stands; `code` is the stable number exported as a metric."""

    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"
    RESOLVED = "resolved"
    NODATA = "nodata"
    ERROR = "error"

    @property
    def code(self) -> int:
        return list(AlertState).index(self)


class Comparison(StrEnum):
    GT = ">"
    GE = ">="
    LT = "<"
    LE = "<="
    EQ = "=="
    NE = "!="

    def holds(self, value: float, threshold: float) -> bool:
        return {
            ">": value > threshold,
            ">=": value >= threshold,
            "<": value < threshold,
            "<=": value <= threshold,
            "==": value == threshold,
            "!=": value != threshold,
        }[self.value]
