"""A fresh primary + synchronous standby per test, stopped by PID whatever the test did."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from failover.lab import Lab, create_pair


@pytest.fixture
def lab() -> Iterator[Lab]:
    pair = create_pair()
    try:
        yield pair
    finally:
        pair.destroy()
