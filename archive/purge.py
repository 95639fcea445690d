"""The one place a session becomes the archive's purge session.

erpcore's triggers refuse deletes of journal entries, stock moves and posted documents unless the
transaction sets `erpops.allow_purge` AND the login is a member of the `erpops_archive` role (migration 0004;
superusers are members of every role). Grant that role to the login that runs `erpops archive`.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def purge_session(conn: Connection, lock_timeout_ms: int) -> None:
    """Let this transaction delete archived rows, and give up on a lock after `lock_timeout_ms`."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SELECT set_config('erpops.allow_purge', 'on', true), set_config('lock_timeout', :v, true)"),
                 {"v": f"{int(lock_timeout_ms)}ms"})
