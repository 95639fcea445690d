"""The one place a session becomes the archive's purge session.

erpcore's triggers refuse deletes of journal entries, stock moves and posted documents unless the
transaction sets `erpops.allow_purge` AND the login is a member of the `erpops_archive` role (migration 0004;
superusers are members of every role). Grant that role to the login that runs `erpops archive`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def purge_session(conn: Connection, lock_timeout_ms: int, **settings: str) -> None:
    """Let this transaction delete archived rows, and give up on a lock after `lock_timeout_ms` (with any
    further `settings` for the transaction, in the same round trip)."""
    if conn.dialect.name != "postgresql":
        return
    values = {"erpops.allow_purge": "on", "lock_timeout": f"{int(lock_timeout_ms)}ms", **settings}
    calls = ", ".join(f"set_config(:k{i}, :v{i}, true)" for i in range(len(values)))
    params = {f"{kv}{i}": x for i, pair in enumerate(values.items()) for kv, x in zip("kv", pair, strict=True)}
    conn.execute(text(f"SELECT {calls}"), params)
