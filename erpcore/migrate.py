"""Schema migrations with Alembic, driven from code so an installed erpops needs no alembic.ini."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    # configparser interpolates %: escape it, or URL-encoded options (%3D) break the config
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False).replace("%", "%%"))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Apply migrations up to `revision`; returns the revision the database is at afterwards."""
    cfg = alembic_config(engine)
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
    return current(engine)


def current(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head() -> str | None:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return ScriptDirectory.from_config(cfg).get_current_head()


def require_current(engine: Engine) -> Engine:
    """Fail with one clear line when the database cannot be reached or is not migrated to head."""
    from sqlalchemy.exc import OperationalError

    from erpcore.exceptions import ConfigError, ErpError

    try:
        at = current(engine)
    except OperationalError as exc:
        url = engine.url.render_as_string(hide_password=True)
        raise ErpError(f"cannot reach the database {url}: {str(exc.orig).strip().splitlines()[0]}") from exc
    want = head()
    if at != want:
        raise ConfigError(f"database is at revision {at or 'none (empty)'}, this erpops needs {want}: "
                          "run `erpops db upgrade`")
    return engine


def open_database() -> Engine:
    """The configured database, checked reachable and migrated: what every working command starts with."""
    from erpcore.db import make_engine

    return require_current(make_engine())
