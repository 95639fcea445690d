"""The one place a session becomes the archive's purge session.

erpcore's triggers (migration 0002) refuse deletes of journal entries, stock moves and posted documents
unless the transaction sets `erpops.allow_purge`; a later migration will grant that to an archive role
only, and then this function is what changes (SET ROLE) and nothing else.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def purge_session(conn: Connection, lock_timeout_ms: int) -> None:
    """Let this transaction delete archived rows, and give up on a lock after `lock_timeout_ms`."""
    if conn.dialect.name != "postgresql":
        return
    conn.execute(text("SELECT set_config('erpops.allow_purge', 'on', true)"))
    conn.execute(text("SELECT set_config('lock_timeout', :v, true)"), {"v": f"{int(lock_timeout_ms)}ms"})
