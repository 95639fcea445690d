"""Engines and sessions from configuration, for both engines erpops supports.

SQLite (the embedded default) gets WAL, foreign keys, a busy timeout and `BEGIN IMMEDIATE` so
that two writers queue on the database lock instead of failing on a lock upgrade. PostgreSQL
gets psycopg 3 and a pool that drops dead connections at once (pre-ping), so the application
recovers as soon as the database does.

Both hide statement parameters from error messages and logs (`hide_parameters`): the values are customers'
names, emails and amounts, and a data error must not copy them into the server log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from erpcore.config import Settings, check_database_url, load_settings
from erpcore.exceptions import ConfigError


def normalize_url(url: str) -> str:
    """Accept `postgresql://` and `postgres://` as psycopg 3 URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def make_engine(url: str | None = None, settings: Settings | None = None, **kwargs: Any) -> Engine:
    """Create an engine for `url` (default: the configured database)."""
    settings = settings or load_settings()
    if url is not None:
        try:
            check_database_url(url)
        except ValueError as exc:
            raise ConfigError(f"database URL: {exc}") from None
    url = normalize_url(url or settings.database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, parsed.database, settings, **kwargs)
    options: dict[str, Any] = {
        "pool_pre_ping": True,
        "pool_size": settings.pool_size,
        "max_overflow": settings.pool_size,
        "echo": settings.database_echo,
        "hide_parameters": True,
    }
    options.update(kwargs)
    return create_engine(url, **options)


def _sqlite_engine(url: str, database: str | None, settings: Settings, **kwargs: Any) -> Engine:
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"echo": settings.database_echo, "connect_args": {"timeout": 30},
                               "hide_parameters": True}
    options.update(kwargs)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see `_on_begin`).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Take the write lock up front: a deferred transaction that reads then writes can fail
        # with SQLITE_BUSY when another writer got there first, whatever the busy timeout.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)
