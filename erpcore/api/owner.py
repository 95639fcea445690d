"""The owner of an in-flight Idempotency-Key on PostgreSQL: a session advisory lock held for the request.

The lock lives as long as the session that took it, so when a worker dies (SIGKILL, OOM, a lost host) its
keys are free the moment PostgreSQL ends the session, and a retry takes them over at once. It is keyed by
(schema, token, key), so databases and schemas sharing a server never block each other.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Engine, func, text
from sqlalchemy.exc import DBAPIError

KEY_SQL = "hashtextextended(current_schema() || ':' || CAST(:token_id AS text) || ':' || :key, 0)"
TAKE = text(f"SELECT pg_try_advisory_lock({KEY_SQL})")
GIVE_UP = text(f"SELECT pg_advisory_unlock({KEY_SQL})")


class OwnerLock:
    """The key's lock and the connection (checked out for the request) whose session holds it.

    `take()` runs in a transaction of `conn` (the reservation's); `let_go()` unlocks and returns the
    connection, and a connection that cannot unlock is invalidated, so a lock never travels back into the pool.
    """

    SQL = KEY_SQL

    def __init__(self, engine: Engine, key: str, token_id: int) -> None:
        self.params: dict[str, str | int] = {"key": key, "token_id": token_id}
        self.conn = engine.connect()
        self.held = False

    def taking(self) -> ColumnElement[bool]:
        """`pg_try_advisory_lock(...)` as a column: the reservation's INSERT or SELECT returns it, no extra trip."""
        return func.pg_try_advisory_lock(self._key())

    def giving_up(self) -> ColumnElement[bool]:
        """`pg_advisory_unlock(...)` as a column for the statement that settles the key."""
        return func.pg_advisory_unlock(self._key())

    def _key(self) -> ColumnElement[int]:
        joined = func.concat(func.current_schema(), ":", str(self.params["token_id"]), ":", self.params["key"])
        return func.hashtextextended(joined, 0)

    def take(self) -> bool:
        self.held = bool(self.conn.execute(TAKE, self.params).scalar())
        return self.held

    def give_up(self) -> None:
        """Unlock, in the open transaction of `conn`."""
        self.conn.execute(GIVE_UP, self.params)
        self.held = False

    def let_go(self) -> None:
        """Unlock if still held, and return the connection."""
        try:
            if self.held:
                self.give_up()
                self.conn.commit()
        except DBAPIError:
            self.conn.invalidate()
        finally:
            self.conn.close()


def owner_lock(engine: Engine, key: str, token_id: int) -> OwnerLock | None:
    """A lock for the key's owner on PostgreSQL (taken by `keystore.reserve`); None on SQLite."""
    return OwnerLock(engine, key, token_id) if engine.dialect.name == "postgresql" else None
