"""Alembic environment: the connection comes from `erpcore.migrate`, the metadata from `erpcore.models`."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from erpcore.db import make_engine
from erpcore.models import metadata

config = context.config


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    engine = make_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
