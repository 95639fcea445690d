"""Fixtures shared by every tier: database engines on both backends."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.dbhelpers import engine_for

BACKENDS = ["sqlite", "pg"]


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C and SIGQUIT reach the suite's processes even when it was started in the background.

    A shell without job control starts `make test &` (or under nohup) with SIGINT and SIGQUIT ignored, and every
    process inherits that: the tests that press Ctrl-C then saw commands that could not be interrupted.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if signal.getsignal(signal.SIGQUIT) is signal.SIG_IGN:
        signal.signal(signal.SIGQUIT, signal.SIG_DFL)


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
