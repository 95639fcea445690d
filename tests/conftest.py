"""Fixtures shared by every tier: database engines on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.dbhelpers import engine_for

BACKENDS = ["sqlite", "pg"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run database tests on every backend; a test marked `pg` is a PostgreSQL test and runs there only."""
    if "backend" in metafunc.fixturenames:
        chosen = ["pg"] if metafunc.definition.get_closest_marker("pg") else BACKENDS
        metafunc.parametrize("backend", chosen, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """A freshly migrated database on each backend, private to the test."""
    with engine_for(backend, tmp_path) as eng:
        yield eng


@pytest.fixture
def erp(engine: Engine) -> Erp:
    """The wired ERP core on a fresh database of each backend."""
    from erpcore.services.bootstrap import bootstrap

    return bootstrap(engine)


from erpcore.services.bootstrap import Erp  # noqa: E402  (type of the fixture above)
