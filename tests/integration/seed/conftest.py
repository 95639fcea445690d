"""One seeded database per backend for the module, plus a helper to seed fresh ones."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine

from erpcore.seed import SeedSummary, seed
from tests.dbhelpers import engine_for

DAYS = 90
ORDERS_PER_DAY = 4
SEED = 20260501


@dataclass
class Seeded:
    engine: Engine
    summary: SeedSummary
    ticks: list[tuple[int, int]]


@pytest.fixture(scope="module", params=["sqlite", "pg"])
def seeded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """90 days of history at 4 orders a day, ending today, seeded once per backend for the module."""
    with engine_for(str(request.param), tmp_path_factory.mktemp("seed")) as engine:
        ticks: list[tuple[int, int]] = []
        summary = seed(engine, 1, ORDERS_PER_DAY, SEED, days=DAYS,
                       progress=lambda done, total: ticks.append((done, total)))
        yield Seeded(engine, summary, ticks)


def small_seed(engine: Engine, end: dt.date | None = None, seed_value: int = SEED) -> SeedSummary:
    return seed(engine, 1, ORDERS_PER_DAY, seed_value, end=end, days=DAYS)
