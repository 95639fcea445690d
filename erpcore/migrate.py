"""Schema migrations with Alembic, driven from code so an installed erpops needs no alembic.ini."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from opskit.errors import Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates %: escape it, or URL-encoded options (%3D) break the config
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision the database is at afterwards."""
    from alembic.util import CommandError

    from erpcore.exceptions import ConfigError

    cfg = alembic_config(engine)
    try:
        with reaching(engine), engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
    except CommandError as exc:  # an unknown revision: nothing was applied (one transaction)
        raise ConfigError(f"cannot upgrade to {revision!r}: {exc}; `erpops db current` shows the head") from exc
    return current(engine)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with reaching(engine), engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def reaching(engine: Engine) -> Iterator[None]:
    """Turn a database that refuses or cannot be reached (no server, unknown user, wrong password, file that
    cannot be opened) into one line that exits 4 (UNAVAILABLE), instead of the driver's traceback."""
    from sqlalchemy.exc import InterfaceError, OperationalError

    try:
        yield
    except (OperationalError, InterfaceError) as exc:
        url = engine.url.render_as_string(hide_password=True)
        lines = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
        raise Unavailable(f"cannot use the database {url}: {lines[0]} (check ERPOPS_DATABASE_URL and that the "
                          "server is up)") from exc


def head() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def require_current(engine: Engine) -> Engine:
    """Fail with one clear line when the database cannot be reached or is not migrated to head."""
    from erpcore.exceptions import ConfigError

    at = current(engine)
    want = head()
    if at != want:
        raise ConfigError(f"database is at revision {at or 'none (empty)'}, this erpops needs {want}: "
                          "run `erpops db upgrade`")
    return engine


def open_database() -> Engine:
    """The configured database, checked reachable and migrated: what every working command starts with."""
    from erpcore.db import make_engine

    return require_current(make_engine())


@contextmanager
def scratch_schema(url: str, prefix: str = "scratch", migrate: bool = True, keep: bool = False,
                   **engine_args: Any) -> Iterator[tuple[Engine, str]]:
    """A new PostgreSQL schema on `url` with an engine whose sessions use it (migrated unless `migrate` is
    False); the schema is dropped afterwards unless `keep`, also when SIGTERM stops the process (a benchmark
    stopped by `kill` left a seeded schema behind, which later tests reading the whole catalog tripped on).
    Yields the engine and the schema's name."""
    from sqlalchemy import text

    from erpcore.db import make_engine
    from opskit.signals import sigterm_unwinds

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = make_engine(url)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{name}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={name}"}, **engine_args)
    try:
        with sigterm_unwinds():
            if migrate:
                upgrade(engine)
            yield engine, name
    finally:
        engine.dispose()
        if not keep:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{name}" CASCADE'))
        admin.dispose()
