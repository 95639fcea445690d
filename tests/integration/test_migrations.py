from __future__ import annotations

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from erpcore.migrate import current, head
from erpcore.models import metadata


def test_migrations_reach_head_and_create_every_table(engine: Engine) -> None:
    assert current(engine) == head()
    tables = set(inspect(engine).get_table_names())
    assert set(metadata.tables) <= tables


@pytest.mark.pg
def test_postgres_refuses_updates_of_journal_rows(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO journal_entry(number, entry_date, source_type, source_id, event, description)"
            " VALUES ('JE-T-1', '2024-01-01', 'test', 1, 'post', 'x')"
        ))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE journal_entry SET description = 'changed'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM journal_entry"))
