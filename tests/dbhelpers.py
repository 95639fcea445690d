"""Database targets for tests: a temporary SQLite file, or a private database or schema on the test PostgreSQL.

PostgreSQL runs when ERPOPS_TEST_PG_URL is set or the default server answers; it never skips silently
then. Each test gets a database of its own, with a random name, so parallel runs and workers cannot collide.

A fresh migrated database is a copy of a template that each test process builds once (`template`): a SQLite
file copied, or a PostgreSQL database cloned with `CREATE DATABASE ... TEMPLATE` (0.1 s, where migrating a
new schema took 2.3 s); a seeded one likewise (the archive tests' four years of history took 5-6 s a test).
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from sqlalchemy import Engine, make_url, text

from erpcore.db import make_engine
from erpcore.migrate import scratch_schema, upgrade

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


def pg_url() -> str | None:
    """The PostgreSQL the tests use, or None when none is configured and the default does not answer."""
    url = os.environ.get("ERPOPS_TEST_PG_URL")
    if url:
        return url
    try:
        psycopg.connect(DEFAULT_PG, connect_timeout=2).close()
    except psycopg.OperationalError:
        return None
    return DEFAULT_PG


@contextmanager
def pg_schema_engine(url: str, migrate: bool = True, **kwargs: object) -> Iterator[Engine]:
    with scratch_schema(url, "t", migrate, **kwargs) as (engine, _name):
        yield engine


Build = Callable[[Engine], None]
_TEMPLATES: dict[tuple[str, str], str] = {}  # (backend, key) -> a SQLite file or a PostgreSQL database name


def _admin(url: str, sql: str) -> None:
    """One statement outside a transaction (CREATE and DROP DATABASE), on a connection of its own."""
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(sql))
    finally:
        admin.dispose()


def _on(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def template(backend: str, key: str, build: Build | None = None, url: str | None = None) -> str:
    """The template of this process for `key`: migrated, then built by `build` (a seed); made on first use,
    dropped when the process ends."""
    if (backend, key) in _TEMPLATES:
        return _TEMPLATES[(backend, key)]
    if backend == "sqlite":
        _remove_stray_dirs(Path(tempfile.gettempdir()))
        path = Path(tempfile.mkdtemp(prefix=f"{SQLITE_PREFIX}{os.getpid()}-")) / f"{key}.sqlite"
        atexit.register(shutil.rmtree, path.parent, True)
        engine = make_engine(f"sqlite:///{path}")
        made = str(path)
    else:
        assert url is not None
        _drop_strays(url)
        made = f"erpops_tpl_{os.getpid()}_{key}_{uuid.uuid4().hex[:10]}"
        _admin(url, f'CREATE DATABASE "{made}"')
        atexit.register(_admin, url, f'DROP DATABASE IF EXISTS "{made}" WITH (FORCE)')
        engine = make_engine(_on(url, made))
    try:
        upgrade(engine)
        if build is not None:
            build(engine)
    finally:
        engine.dispose()
    _TEMPLATES[(backend, key)] = made
    return made


SQLITE_PREFIX = "erpops-tpl-"


def _owner_gone(pattern: str, name: str) -> bool:
    """Whether `name` carries (as `pattern`'s first group) the pid of a process of this machine that is gone."""
    import re

    owner = re.match(pattern, name)
    return owner is not None and not Path(f"/proc/{owner.group(1)}").exists()


def _remove_stray_dirs(tmp: Path) -> None:
    """Remove the SQLite template directories of processes of this machine that are gone (SIGKILL skips atexit)."""
    for folder in tmp.glob(f"{SQLITE_PREFIX}*"):
        if _owner_gone(rf"{SQLITE_PREFIX}(\d+)-", folder.name):
            shutil.rmtree(folder, ignore_errors=True)


def _drop_strays(url: str) -> None:
    """Drop the test databases of processes of this machine that are gone (a run killed with SIGKILL)."""
    admin = make_engine(url)
    try:
        with admin.connect() as conn:
            names = list(conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'erpops\\_t%'"))
                         .scalars())
    finally:
        admin.dispose()
    for name in names:
        if _owner_gone(r"erpops_tp?l?_(\d+)_", name):
            _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def pg_database_engine(url: str, key: str = "migrated", build: Build | None = None, **kwargs: object
                       ) -> Iterator[Engine]:
    """A PostgreSQL database of its own, cloned from this process's template `key`; dropped afterwards,
    also when SIGTERM stops the process."""
    from opskit.signals import sigterm_unwinds

    source = template("pg", key, build, url)
    name = f"erpops_t_{os.getpid()}_{uuid.uuid4().hex[:12]}"
    _admin(url, f'CREATE DATABASE "{name}" TEMPLATE "{source}"')
    engine = make_engine(_on(url, name), **kwargs)
    try:
        with sigterm_unwinds():
            yield engine
    finally:
        engine.dispose()
        _admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def sqlite_engine(directory: Path, migrate: bool = True, key: str = "migrated", build: Build | None = None
                  ) -> Iterator[Engine]:
    path = directory / ("db_" + uuid.uuid4().hex[:8] + ".sqlite")
    path.parent.mkdir(parents=True, exist_ok=True)
    if migrate:
        shutil.copyfile(template("sqlite", key, build), path)
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def engine_for(backend: str, tmp_path: Path) -> Iterator[Engine]:
    if backend == "sqlite":
        with sqlite_engine(tmp_path) as engine:
            yield engine
        return
    url = pg_url()
    if url is None:
        import pytest

        why = "no PostgreSQL configured (ERPOPS_TEST_PG_URL) and none answers on 127.0.0.1:5432"
        if os.environ.get("CI"):  # `make test` starts one; in CI its absence is a failure, never a skip
            pytest.fail(why)
        pytest.skip(why)
    with pg_database_engine(url) as engine:
        yield engine
